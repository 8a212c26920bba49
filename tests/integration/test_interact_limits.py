"""/ws under hostile or broken input and crashes: invalid JSON, a 1 MiB
message, invalid UTF-8, 10,000 asks in a second, a school sending a
moderator's message, bad tokens; and SIGKILL in the middle of a burst of
asks loses no acknowledged question."""
import asyncio
import json
import signal
import socket

import pytest
import websockets
from websockets.frames import Opcode

from interact_client import Client, join, open_session


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


async def closed_with(c, code):
    """Reads until the server closes c; returns the close reason."""
    with pytest.raises(websockets.ConnectionClosed) as info:
        for _ in range(1000):
            await c.recv()
    assert info.value.code == code, (info.value.code, info.value.reason)
    return info.value.reason


def test_bad_input_gets_errors_or_closes_and_others_are_unaffected(gateway_factory):
    gw = gateway_factory(streams={})

    async def scenario():
        lec, _ = await join(gw, "lecturer:studio:Ada", "bad")
        bystander, _ = await join(gw, "school:calm:Room", "bad")

        # Not JSON, not an object, unknown type, bad fields: errors, still connected.
        c, _ = await join(gw, "school:noisy:Room", "bad")
        await c.ws.send("{not json")
        assert (await c.recv())["error"]["code"] == "invalid_json"
        await c.ws.send('"\\udc00"')  # a lone surrogate is not valid UTF-8 text
        assert (await c.recv())["error"]["code"] == "invalid_json"
        await c.ws.send("[1,2]")
        assert (await c.recv())["error"]["code"] == "invalid_message"
        err = await c.error("qa.launch_rockets")
        assert err["code"] == "unknown_type" and err["field"] == "type"
        err = await c.error("qa.ask", text="x" * 501)
        assert err["code"] == "invalid_argument" and err["field"] == "text"
        err = await c.error("qa.ask", text="bell \u0007")
        assert err["code"] == "invalid_argument"
        err = await c.error("qa.ask", text="ok", colour="red")
        assert err["code"] == "invalid_argument"
        err = await c.error("qa.ask")
        assert err == {"code": "invalid_argument", "message": "text is required", "field": "text"}
        err = await c.error("qa.vote", question="1")
        assert err["code"] == "invalid_argument" and err["field"] == "question"
        await c.ws.send(b'{"type":"ping"}')  # binary frame
        assert (await c.recv())["error"]["code"] == "invalid_message"
        assert (await c.error("qa.approve", question=1))["code"] == "forbidden"
        assert (await c.error("hand.next"))["code"] == "forbidden"
        assert (await c.call("ping"))["time"] > 0
        # Past the threshold of invalid messages the connection is closed (1008),
        # even for a client that writes a burst without reading: the gateway
        # sends its close frame, then reads and discards until the client's
        # close, so no TCP reset destroys the close frame (it would read 1006).
        for _ in range(200):
            await c.ws.send("nonsense")
        reason = await closed_with(c, 1008)
        assert "invalid" in reason

        # 1 MiB in one message, and more behind it: closed with 1009.
        c, _ = await join(gw, "school:big:Room", "bad")
        await c.ws.send(json.dumps({"type": "qa.ask", "text": "x" * (1 << 20)}))
        for _ in range(50):
            await c.ws.send(json.dumps({"type": "ping"}))
        await closed_with(c, 1009)

        # Invalid UTF-8 in a text frame: closed with 1007 by the WebSocket layer.
        c, _ = await join(gw, "school:utf:Room", "bad")
        await c.ws.write_frame(True, Opcode.TEXT, b'{"type":"qa.ask","text":"\xff\xfe"}')
        await closed_with(c, 1007)

        # 10,000 asks within about a second: rate_limited with a retry time, never a close.
        c, _ = await join(gw, "school:flood:Room", "bad")
        n = 10000
        for i in range(n):
            await c.ws.send(json.dumps({"type": "qa.ask", "id": i, "text": f"flood {i}"}))
        answers = {}
        while len(answers) < n:
            m = await c.recv()
            if m["type"] in ("ack", "error"):
                answers[m["id"]] = m
        acked = [m for m in answers.values() if m["type"] == "ack"]
        limited = [m for m in answers.values() if m["type"] == "error"]
        assert 1 <= len(acked) <= 10  # the ask bucket (5) plus what refilled meanwhile
        assert all(m["error"]["code"] == "rate_limited" for m in limited)
        assert all(m["error"]["retry_after_ms"] > 0 for m in limited)
        await asyncio.sleep(0)  # still connected, no close:
        assert (await c.request("ping"))["type"] in ("ack", "error")

        # Tokens: a bad one in the URL closes with 1008; hello can authenticate later.
        c = await Client.open(gw, "pirate:x:y")
        assert (await c.recv())["error"]["code"] == "unauthorized"
        await closed_with(c, 1008)
        c = await Client.open(gw)
        assert (await c.error("session.join", session="bad"))["code"] == "unauthorized"
        assert (await c.error("hello", token="school:x"))["code"] == "unauthorized"
        assert (await c.call("hello", token="viewer:home:Anna"))["role"] == "viewer"
        assert (await c.error("hello", token="viewer:home:Anna"))["code"] == "invalid_state"
        assert (await c.error("qa.vote", question=1))["code"] == "not_joined"
        await c.call("session.join", session="bad")
        assert (await c.error("qa.ask", text="viewers cannot ask"))["code"] == "forbidden"
        await c.close()

        # Another WebSocket path is refused; the bystander never noticed a thing.
        with pytest.raises((websockets.InvalidStatusCode, websockets.InvalidMessage)):
            await websockets.connect(f"ws://127.0.0.1:{gw.port}/other")
        await lec.call("qa.ask", text="still here?")
        await bystander.sync()
        assert [e["question"]["text"] for e in bystander.take("qa.asked")] == ["still here?"]
        await bystander.close()
        await lec.close()

    run(scenario())
    assert gw.request("GET", "/healthz")[0] == 200


def test_connections_per_site_are_limited(gateway_factory):
    gw = gateway_factory(streams={}, extra="[interact]\nmax_site_connections=2\n")

    async def scenario():
        a = await Client.open(gw, "school:s1:A")
        b = await Client.open(gw, "school:s1:B")
        c = await Client.open(gw, "school:s1:C")
        assert (await c.recv())["error"]["code"] == "limit_reached"
        await closed_with(c, 1008)
        await a.close()
        await asyncio.sleep(0.2)
        d = await Client.open(gw, "school:s1:D")
        assert (await d.call("ping"))["time"] > 0
        for x in (b, d):
            await x.close()

    run(scenario())


def test_sigkill_mid_burst_loses_no_acked_question(gateway_factory):
    gw = gateway_factory(streams={}, extra="[interact]\nask_burst=100000\nask_rate=100000\n"
                         "msg_burst=100000\nmsg_rate=100000\n")
    acked = {}

    async def asker(site):
        c, _ = await join(gw, f"school:{site}:Room", "crash")
        try:
            for i in range(2000):
                text = f"{site} question {i}"
                await c.ws.send(json.dumps({"type": "qa.ask", "id": i, "text": text}))
                if i % 20 == 19:  # keep a window of requests in flight
                    while True:
                        m = await c.recv(timeout=10)
                        if m["type"] == "ack":
                            acked[m["result"]["question"]] = (f"{site} question {m['id']}",
                                                              m["id"])
                            if m["id"] == i:
                                break
        except (websockets.ConnectionClosed, asyncio.TimeoutError, OSError):
            pass

    async def burst():
        await open_session(gw, "crash")
        tasks = [asyncio.create_task(asker(f"school-{k}")) for k in range(4)]
        while len(acked) < 300:
            await asyncio.sleep(0.01)
        gw.proc.send_signal(signal.SIGKILL)
        await asyncio.gather(*tasks)

    run(burst())
    gw.proc.wait()
    assert len(acked) >= 300
    gw.start()

    async def check():
        op, snap = await join(gw, "operator:museum:Op", "crash")
        stored = {q["id"]: q["text"] for q in snap["state"]["questions"]}
        missing = [qid for qid in acked if qid not in stored]
        assert missing == [], f"{len(missing)} acked questions lost"
        assert all(stored[qid] == text for qid, (text, _) in acked.items())
        # The log goes on from where it was: sequence numbers are not reused.
        assert snap["seq"] >= len(acked)
        r = await op.call("qa.ask", text="after the restart")
        assert r["seq"] == snap["seq"] + 1 and r["question"] not in stored
        await op.close()

    run(check())


def test_a_slow_client_is_closed_and_does_not_hold_up_others(gateway_factory):
    gw = gateway_factory(streams={}, extra="[interact]\nmax_queue=65536\nmoderation=false\n"
                         "chat_burst=100000\nchat_rate=100000\nmsg_burst=100000\nmsg_rate=100000\n")

    async def scenario():
        # A reader that never reads: a tiny receive buffer and no client-side queue.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", gw.port))
        slow = Client(await websockets.connect(
            f"ws://127.0.0.1:{gw.port}/ws?token=school:slow:Room", sock=sock, max_queue=1))
        lec, _ = await join(gw, "lecturer:studio:Ada", "slow")
        await slow.call("session.join", session="slow")
        fast, _ = await join(gw, "school:fast:Room", "slow")
        text = "x" * 400
        for i in range(20000):
            await lec.call("chat.send", text=f"{i} {text}")
            if i % 500 == 499:
                await fast.sync()
                assert len(fast.take("chat.message")) == 500  # the others keep up
                if slow.ws.closed or gw.log().count("outgoing queue over"):
                    break
        assert "outgoing queue over 65536 bytes" in gw.log()
        # The slow client gets the rest of what was written before, then the close.
        slow.ws.max_queue = None
        code = None
        try:
            while True:
                await slow.recv(timeout=30)
        except websockets.ConnectionClosed as e:
            code = e.code
        assert code in (1013, 1006)  # 1006: the close frame could not get through in time
        await fast.close()
        await lec.close()

    run(scenario())
