"""The session.snapshot a visibility change pushes to every connection of a
session: a connection with nothing waiting gets it at once; one that is
behind (a moderator that stopped reading, its socket full) is not closed
for it, and gets it, built at that moment, once it has caught up. Either
way the client ends with the session's state and seq."""
import asyncio
import json
import socket

import websockets

from interact_client import Client

QUESTIONS = 500
TEXT = 10000  # 500 questions of 10,000 characters: a snapshot of about 5 MB,
# more than the kernel buffers (4 MiB send buffer at most) of a reader that
# does not read, so the gateway holds part of it.


async def ask_many(lec, n):
    """n questions of TEXT characters, 50 in flight at a time; returns their ids."""
    ids = []
    for i in range(0, n, 50):
        for k in range(i, min(n, i + 50)):
            await lec.ws.send(json.dumps({"type": "qa.ask", "id": f"q{k}",
                                          "text": f"{k} " + "x" * (TEXT - 8)}))
        acks = 0
        while acks < min(n, i + 50) - i:
            m = await lec.recv()
            if m.get("type") == "ack":
                acks += 1
                ids.append(m["result"]["question"])
            else:
                assert m.get("type") != "error", m
    return ids


def test_a_visibility_snapshot_never_closes_a_moderator_that_is_behind(gateway_factory):
    gw = gateway_factory(streams={}, log_level="info", extra=(
        f"[interact]\nmax_text={TEXT}\nmax_message=32768\nmoderation=false\n"
        "ask_burst=100000\nask_rate=100000\nmsg_burst=100000\nmsg_rate=100000\n"))

    async def scenario():
        lec = await Client.open(gw, "lecturer:studio:Ada", max_size=None, ping_interval=None)
        await lec.call("session.join", session="big")
        ids = await ask_many(lec, QUESTIONS)
        await lec.call("qa.answer", question=ids[0], text="yes")
        school = await Client.open(gw, "school:s1:Room", max_size=None, ping_interval=None)
        await school.call("session.join", session="big")

        # A moderator that stops reading: a tiny receive buffer, its reader
        # paused; the answer to its join (a 5 MB snapshot) fills its socket
        # and the gateway holds the rest.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", gw.port))
        slow = Client(await websockets.connect(
            f"ws://127.0.0.1:{gw.port}/ws?token=operator:hq:Op", sock=sock, max_size=None,
            max_queue=None, ping_interval=None))
        slow.ws.transport.pause_reading()
        await slow.ws.send(json.dumps({"type": "session.join", "id": "j", "session": "big"}))
        await asyncio.sleep(0.5)

        # The lecturer changes visibility, then asks once more (an event that
        # arrives while the slow moderator's snapshot waits).
        configured = await lec.call("session.configure", qa_visibility="answered")
        last = await lec.call("qa.ask", text="one more")

        # Connections that read get the snapshot at once, before what follows.
        for c, n in ((lec, QUESTIONS), (school, 1)):
            await c.sync()
            snaps = [m for m in c.inbox if m["type"] == "session.snapshot"]
            assert len(snaps) == 1, [m["type"] for m in c.inbox]
            state = snaps[0]["state"]
            assert state["settings"]["qa_visibility"] == "answered"
            assert state["seq"] == configured["seq"]
            assert len(state["questions"]) == n
            c.inbox.clear()

        # The slow moderator reads again: it was not closed, and gets its
        # join, the events, then the snapshot with the new visibility, last.
        slow.ws.transport.resume_reading()
        msgs = []
        while not (msgs and msgs[-1]["type"] == "session.snapshot"):
            msgs.append(await slow.recv())
        assert [m["type"] for m in msgs] == [
            "ack", "session.configured", "qa.asked", "session.snapshot"]
        assert msgs[0]["result"]["mode"] == "snapshot"
        assert [m["seq"] for m in msgs[1:3]] == [configured["seq"], last["seq"]]
        state = msgs[-1]["state"]
        assert state["settings"]["qa_visibility"] == "answered"
        assert state["seq"] == last["seq"]  # built when sent: it has the last ask
        assert len(state["questions"]) == QUESTIONS + 1
        assert (await slow.call("ping"))["time"] > 0
        assert "outgoing queue over" not in gw.log()
        for c in (lec, school, slow):
            await c.close()

    asyncio.run(asyncio.wait_for(scenario(), 150))
