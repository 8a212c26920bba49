"""Broadcasts written from two threads (split_sends, gateway/interact/sender.c):
2,000 real clients get every question of a burst, complete and in order, with
the sender thread running; a client whose socket is full while the split
broadcasts go out gets the rest later from the gateway, nothing lost, nothing
reordered. Bounded in clients, questions and time; correctness only."""
import asyncio
import base64
import json
import os
import pathlib
import socket
import struct
import subprocess
import time

from interact_client import Client, join_many
from test_interact_load import raise_nofile

RATES = ("ask_burst=100000\nask_rate=100000\nmsg_burst=100000\nmsg_rate=100000\n"
         "max_site_connections=100000\n")


def sender_threads(gw):
    tasks = pathlib.Path(f"/proc/{gw.proc.pid}/task")
    return [t for t in tasks.iterdir() if (t / "comm").read_text().strip() == "hc-ws-send"]


def test_2000_clients_get_a_burst_in_order_with_split_sends(gateway_factory):
    clients_n, questions = 2000, 20
    assert raise_nofile() >= 2 * clients_n + 100, "the open files limit is too low for this test"
    gw = gateway_factory(streams={}, extra=f"[interact]\nsplit_sends=512\n{RATES}")

    async def scenario():
        lec = await Client.open(gw, "lecturer:studio:Ada", ping_interval=None)
        await lec.call("session.join", session="split")
        clients = await join_many(gw, clients_n, "split")
        assert sender_threads(gw) == []  # no broadcast to 512 yet (joins go to moderators)
        acks = []
        for k in range(questions):
            acks.append(await lec.call("qa.ask", text=f"split question {k}"))

        async def questions_of(c):
            got = [m for m in c.inbox if m.get("type") == "qa.asked"]
            while len(got) < questions:
                m = await c.recv(timeout=60)
                if m.get("type") == "qa.asked":
                    got.append(m)
            return [(m["seq"], m["question"]["id"]) for m in got]

        want = [(a["seq"], a["question"]) for a in acks]
        got = await asyncio.gather(*(questions_of(c) for c in clients))
        assert all(g == want for g in got)
        # The sender thread is used only when hallcast may run on two CPUs.
        assert len(sender_threads(gw)) == (len(os.sched_getaffinity(0)) >= 2)
        await asyncio.gather(*(c.close() for c in clients + [lec]))

    asyncio.run(asyncio.wait_for(scenario(), 240))


class RawClient:
    """A WebSocket client on a plain socket with a small receive buffer, so
    that it can stop reading and have the gateway's socket to it fill up."""

    def __init__(self, port, token):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: hallcast-ws\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.bytes_read = 0

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        assert len(data) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "the gateway closed the connection"
            self.bytes_read += len(chunk)
            self.buf += chunk

    def recv(self):
        """The next text message (server frames are unmasked, unfragmented here)."""
        while True:
            self._need(2)
            op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            head = 2
            if n == 126:
                self._need(4)
                n, head = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                self._need(10)
                n, head = struct.unpack(">Q", self.buf[2:10])[0], 10
            self._need(head + n)
            payload, self.buf = self.buf[head:head + n], self.buf[head + n:]
            if op == 0x1:
                return json.loads(payload)
            assert op in (0x9, 0xA), f"unexpected opcode {op}"


def queues(port_a, port_b):
    """Recv-Q and Send-Q of the TCP socket from port_a to port_b (ss)."""
    out = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f[2].endswith(f":{port_a}") and f[3].endswith(f":{port_b}"):
            return int(f[0]), int(f[1])
    raise AssertionError(f"no connection {port_a} -> {port_b} in ss")


def test_a_full_socket_during_split_sends_gets_the_rest_later_in_order(gateway_factory):
    # Loopback sockets grow their send buffer to a few MiB: 600 questions of
    # 10,000 characters are more than it takes, and less than max_queue.
    questions = 600
    gw = gateway_factory(streams={}, extra=("[interact]\nsplit_sends=2\nmax_text=10000\n"
                                            f"max_message=16384\nmax_queue=67108864\n{RATES}"))
    slow = RawClient(gw.port, "school:slow:Room%201")
    slow_port = slow.sock.getsockname()[1]

    async def scenario():
        lec = await Client.open(gw, "lecturer:studio:Ada", ping_interval=None)
        await lec.call("session.join", session="full")  # a lecturer opens the session
        slow.send({"type": "session.join", "id": 1, "session": "full"})
        assert slow.recv()["type"] == "ack"
        fast = [await Client.open(gw, f"school:fast-{i}:Room {i}", ping_interval=None)
                for i in range(3)]
        for c in fast:
            await c.call("session.join", session="full")
        acks = []
        for k in range(questions):
            acks.append(await lec.call("qa.ask", text=f"{k:04d} " + "x" * 9990))
        want = [(a["seq"], a["question"]) for a in acks]
        for c in fast:
            got = [m for m in c.inbox if m.get("type") == "qa.asked"]
            while len(got) < questions:
                m = await c.recv()
                if m.get("type") == "qa.asked":
                    got.append(m)
            assert [(m["seq"], m["question"]["id"]) for m in got] == want
        await asyncio.gather(*(c.close() for c in fast + [lec]))
        return want

    want = asyncio.run(asyncio.wait_for(scenario(), 120))
    # The slow client has read nothing since its join: what the kernel holds
    # on both ends is less than what it is owed, the rest waits in the gateway.
    recv_q = queues(slow_port, gw.port)[0]
    send_q = queues(gw.port, slow_port)[1]
    got, deadline = [], time.monotonic() + 120
    while len(got) < questions and time.monotonic() < deadline:
        m = slow.recv()
        if m.get("type") == "qa.asked":
            got.append((m["seq"], m["question"]["id"]))
    assert got == want
    assert slow.bytes_read > recv_q + send_q + 100000, (slow.bytes_read, recv_q, send_q)
    assert len(sender_threads(gw)) == (len(os.sched_getaffinity(0)) >= 2)
    slow.sock.close()
