"""2,000 concurrent WebSocket clients in one session (one asyncio process,
loopback) all receive a question broadcast by the lecturer. Bounded in count
and time; correctness only (latency is measured in tools/, not here)."""
import asyncio
import resource

from interact_client import Client, join_many

CLIENTS = 2000


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_2000_clients_receive_a_broadcast_question(gateway_factory):
    assert raise_nofile() >= 2 * CLIENTS + 100, "the open files limit is too low for this test"
    gw = gateway_factory(streams={}, log_level="info")

    async def scenario():
        lec = await Client.open(gw, "lecturer:studio:Ada", ping_interval=None)
        await lec.call("session.join", session="big")  # a lecturer opens the session
        clients = await join_many(gw, CLIENTS, "big")
        r = await lec.call("qa.ask", text="Can everybody see this?")

        async def wait_question(c):
            while True:
                m = await c.recv(timeout=60)
                if m.get("type") == "qa.asked":
                    return m

        got = await asyncio.gather(*(wait_question(c) for c in clients))
        assert all(m["seq"] == r["seq"] and m["question"]["id"] == r["question"] for m in got)
        await asyncio.gather(*(c.close() for c in clients + [lec]))

    asyncio.run(asyncio.wait_for(scenario(), 180))
