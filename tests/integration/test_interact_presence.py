"""Presence at scale (issue 5): hc-wsload brings 1,500 clients into one
session, each from its own site. A lecturer who reads all along sees every
site arrive and leave through pushes of what changed; a moderator who reads
nothing for a while (a tiny receive buffer, behind 6 MB of chat) is
skipped rather than queued, is not closed, and once it reads gets the whole
list. Both end with the true state. Bounded in clients and time."""
import asyncio
import json
import resource
import socket
import subprocess

import websockets

from conftest import BUILD
from interact_client import Client, apply_presence

WSLOAD = BUILD / "tools" / "wsload" / "hc-wsload"
SITES = 1500
# 6 MB of chat: more than the kernel buffers (4 MiB send buffer at most) for
# a reader that does not read, so the gateway queues for it.
CHATS = 2000


def test_presence_of_many_sites_reaches_moderators_without_closing_them(gateway_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert hard >= 2 * SITES + 100, "the open files limit is too low for this test"
    gw = gateway_factory(streams={}, log_level="info", extra=(
        "[interact]\npresence_interval=50\nmax_queue=8388608\nmax_site_connections=100000\n"
        "max_text=3000\nmax_message=8192\n"
        "chat_burst=100000\nchat_rate=100000\nmsg_burst=100000\nmsg_rate=100000\n"))

    async def scenario():
        fast = await Client.open(gw, "lecturer:museum:Ada", ping_interval=None)
        snap = await fast.call("session.join", session="crowd")
        fast_view = {p["site"]: p["viewers"] for p in snap["state"]["presence"]}
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", gw.port))
        slow = Client(await websockets.connect(
            f"ws://127.0.0.1:{gw.port}/ws?token=operator:hq:Op", sock=sock, max_queue=1,
            ping_interval=None))
        slow_snap = (await slow.call("session.join", session="crowd"))["state"]
        slow_view = {p["site"]: p["viewers"] for p in slow_snap["presence"]}
        # From here the slow moderator reads nothing until the end.
        for i in range(0, CHATS, 50):  # 50 in flight at a time
            for k in range(i, i + 50):
                await fast.ws.send(json.dumps({"type": "chat.send", "id": f"c{k}",
                                               "text": f"{k} " + "x" * 2900}))
            acks = 0
            while acks < 50:
                m = await fast.recv()
                if m.get("type") == "ack":
                    acks += 1
                else:
                    assert m.get("type") != "error", m
                    fast.inbox.append(m)

        most = 0
        stop = asyncio.Event()

        async def read_fast():
            nonlocal most
            early = fast.inbox  # what came while it waited for its acks
            while not stop.is_set():
                try:
                    m = early.pop(0) if early else await fast.recv(timeout=0.2)
                except asyncio.TimeoutError:
                    continue
                if m.get("type") == "presence":
                    apply_presence(fast_view, m)
                    assert m["total"]["sites"] == len(fast_view), m["total"]
                    most = max(most, sum(1 for s in fast_view if s.startswith("site-")))

        reader = asyncio.create_task(read_fast())
        proc = await asyncio.create_subprocess_exec(
            str(WSLOAD), "--port", str(gw.port), "--clients", str(SITES), "--sites", "0",
            "--questions", "1", "--session", "crowd", "--rate", "2000", "--settle-ms", "500",
            "--timeout", "60", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 90)
        report = json.loads(out)
        assert proc.returncode == 0 and report["connected"] == SITES, err.decode()
        # Everybody left: the lecturer's view comes back to the two moderators.
        for _ in range(100):
            if fast_view == {"museum": 1, "hq": 1}:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await reader
        assert most == SITES  # every site was seen, with one connection each
        assert fast_view == {"museum": 1, "hq": 1}

        # The slow moderator now reads: every chat message (real events are
        # never skipped), the presence it was due, and it is still connected.
        chats, fulls = 0, 0
        await asyncio.sleep(0.3)
        for _ in range(20000):
            if chats == CHATS and slow_view == {"museum": 1, "hq": 1} and fulls:
                break
            try:
                m = await slow.recv(timeout=5)
            except asyncio.TimeoutError:
                break
            chats += m.get("type") == "chat.message"
            if m.get("type") == "presence":
                fulls += bool(m.get("full"))
                apply_presence(slow_view, m)
        assert chats == CHATS
        assert fulls >= 1, len(slow_view)  # it was behind, and caught up with the whole list
        assert slow_view == {"museum": 1, "hq": 1}
        assert (await slow.call("ping"))["time"] > 0
        for c in (fast, slow):
            await c.close()

    asyncio.run(asyncio.wait_for(scenario(), 150))
