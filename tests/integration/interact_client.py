"""A small client for hallcast's /ws interaction protocol over Python's
websockets (Debian python3-websockets, asyncio API), used by the
test_interact*.py files. Requests carry an id; everything else that arrives
while waiting for the answer is kept in `inbox`, in order."""
import asyncio
import json
import urllib.parse

import websockets

TIMEOUT = 30


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.inbox = []
        self.next_id = 0

    @classmethod
    async def open(cls, gw, token=None, **kw):
        url = f"ws://127.0.0.1:{gw.port}/ws"
        if token:
            url += "?token=" + urllib.parse.quote(token)
        kw.setdefault("max_queue", None)
        kw.setdefault("open_timeout", TIMEOUT)
        ws = await websockets.connect(url, **kw)
        return cls(ws)

    async def recv(self, timeout=TIMEOUT):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def request(self, type_, **fields):
        """Sends a request and returns its answer (an ack or error object)."""
        self.next_id += 1
        rid = self.next_id
        await self.ws.send(json.dumps({"type": type_, "id": rid, **fields}))
        while True:
            msg = await self.recv()
            if msg.get("type") in ("ack", "error") and msg.get("id") == rid:
                return msg
            self.inbox.append(msg)

    async def call(self, type_, **fields):
        """Sends a request that must succeed; returns the ack's result."""
        msg = await self.request(type_, **fields)
        assert msg["type"] == "ack", f"{type_} {fields}: {msg}"
        return msg["result"]

    async def error(self, type_, **fields):
        """Sends a request that must fail; returns the error object."""
        msg = await self.request(type_, **fields)
        assert msg["type"] == "error", f"{type_} {fields} did not fail: {msg}"
        return msg["error"]

    async def sync(self):
        """After this, every event broadcast before the call is in inbox."""
        await self.call("ping")

    async def wait_event(self, type_, want=lambda e: True, limit=10000):
        """Reads (bounded) until an event of type_ for which want(event) holds."""
        for m in self.inbox:
            if m.get("type") == type_ and "seq" in m and want(m):
                return m
        for _ in range(limit):
            m = await self.recv()
            self.inbox.append(m)
            if m.get("type") == type_ and "seq" in m and want(m):
                return m
        raise AssertionError(f"no {type_} event")

    def events(self, *types):
        """Events (messages with a seq) received so far, optionally of these types."""
        return [m for m in self.inbox if "seq" in m and (not types or m["type"] in types)]

    def take(self, *types):
        """Like events(), and forgets everything received so far."""
        out = self.events(*types)
        self.inbox.clear()
        return out

    async def close(self):
        await self.ws.close()


def apply_presence(view, msg):
    """Applies a moderator's presence push to view (site -> viewers): the
    whole list when `full`, else the sites that changed (0: left). Returns view."""
    if msg.get("full"):
        view.clear()
    for s in msg.get("sites", []):
        if s["viewers"]:
            view[s["site"]] = s["viewers"]
        else:
            view.pop(s["site"], None)
    return view


async def open_session(gw, session, token="lecturer:studio:Opener"):
    """Opens session as a lecturer would (schools and viewers cannot create one)."""
    c, _ = await join(gw, token, session)
    await c.close()


async def join(gw, token, session, **fields):
    """Opens a client with token and joins session; returns (client, ack result)."""
    c = await Client.open(gw, token)
    return c, await c.call("session.join", session=session, **fields)


async def join_many(gw, n, session, parallel=64):
    """n school clients (site-I, Room I) joined to session, at most parallel
    handshakes at a time, without pings (a load test's clients)."""
    sem = asyncio.Semaphore(parallel)

    async def connect(i):
        async with sem:
            c = await Client.open(gw, f"school:site-{i}:Room {i}", ping_interval=None)
            await c.call("session.join", session=session)
            return c

    return await asyncio.gather(*(connect(i) for i in range(n)))
