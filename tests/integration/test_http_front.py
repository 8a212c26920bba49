"""The HTTP front door (gateway/http/front.c) against the real daemon: GETs of
HLS files are served by the front door, everything else by libwebsockets after
a hand-off; these tests mix both on one connection, pipeline, upgrade, stall
and overflow requests through real clients, and check that a playlist that
hlssink2 is rewriting is never seen half-written."""
import asyncio
import http.client
import socket
import subprocess
import time

from conftest import wait_for
from hls_util import playlist_segments
from interact_client import join, open_session

SMALL = "test://?width=160&height=120&bitrate=100&fps=10&audio=false"


def read_response(f):
    """Reads one HTTP/1.1 response from a socket file; returns (status, headers, body)."""
    status_line = f.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = f.read(int(headers.get("content-length", 0)))
    return int(status_line.split()[1]), headers, body


def write_hls(gw, name, files):
    folder = gw.data_dir / "hls" / name
    folder.mkdir(parents=True, exist_ok=True)
    for fname, data in files.items():
        (folder / fname).write_bytes(data)
    return folder


PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg-1.ts\n"


def test_keep_alive_mixes_hls_and_api_and_both_paths_answer_alike(gateway_factory):
    gw = gateway_factory(streams={})
    write_hls(gw, "room", {"index.m3u8": PLAYLIST, "seg-1.ts": b"\x47" * 188 * 100})
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)

    def fetch(path):
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, sorted(r.getheaders()), r.read()
    # Served by the front door: the first requests of a connection for HLS files.
    fast, fast_404 = fetch("/hls/room/index.m3u8"), fetch("/hls/room/nope.ts?x=1")
    # An API request on the same connection: from here libwebsockets serves it.
    status, _, body = fetch("/healthz")
    assert status == 200 and b'"status":"ok"' in body
    handed, handed_404 = fetch("/hls/room/index.m3u8"), fetch("/hls/room/nope.ts?x=1")
    conn.close()
    assert fast[0] == 200 and fast[2] == PLAYLIST
    assert dict(fast[1])["content-type"] == "application/vnd.apple.mpegurl"
    assert dict(fast[1])["cache-control"] == "no-cache"
    assert dict(fast[1])["access-control-allow-origin"] == "*"
    assert fast_404[0] == 404 and b'"code":"not_found"' in fast_404[2]
    # The front door's answers are the same, header for header, as lws's.
    assert fast == handed
    assert fast_404 == handed_404


def test_pipelined_requests_are_answered_in_order(gateway_factory):
    gw = gateway_factory(streams={})
    segment = bytes(range(256)) * 4000  # 1 MB: sent with sendfile, over several writes
    write_hls(gw, "room", {"index.m3u8": PLAYLIST, "seg-1.ts": segment})
    req = "GET {} HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall("".join(req.format(p) for p in (
            "/hls/room/index.m3u8", "/hls/room/seg-1.ts", "/hls/room/missing.m3u8",
            "/hls/room/index.m3u8", "/api/v1/streams", "/hls/room/seg-1.ts")).encode())
        f = s.makefile("rb")
        answers = [read_response(f) for _ in range(6)]
    assert [a[0] for a in answers] == [200, 200, 404, 200, 200, 200]
    assert answers[0][2] == PLAYLIST and answers[3][2] == PLAYLIST
    assert answers[1][2] == segment and answers[5][2] == segment
    assert answers[1][1]["cache-control"] == "public, max-age=3600"
    assert answers[1][1]["content-type"] == "video/mp2t"
    assert answers[4][1]["content-type"] == "application/json"


def test_a_slow_reader_gets_the_whole_segment(gateway_factory):
    gw = gateway_factory(streams={})
    segment = bytes(range(251)) * 20000  # 5 MB, far more than the socket buffers hold
    write_hls(gw, "room", {"seg-1.ts": segment, "index.m3u8": PLAYLIST})
    with socket.socket() as s:
        s.settimeout(10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, set before
        s.connect(("127.0.0.1", gw.port))
        s.sendall(b"GET /hls/room/seg-1.ts HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1)  # the server meets a full socket and must wait for room
        f = s.makefile("rb")
        status, _, body = read_response(f)
        assert status == 200 and body == segment
        assert read_response(f)[2] == PLAYLIST


def test_connection_close_is_honoured(gateway_factory):
    gw = gateway_factory(streams={})
    write_hls(gw, "room", {"index.m3u8": PLAYLIST})
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(b"GET /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):  # ends: the server closes
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(PLAYLIST)


def test_websocket_upgrade_on_a_fresh_connection(gateway_factory):
    gw = gateway_factory(streams={})

    async def scenario():
        await open_session(gw, "lecture")
        a, snap = await join(gw, "school:school-1:Room 4", "lecture")
        assert snap["mode"] == "snapshot"
        assert snap["state"]["you"] == {"role": "school", "site": "school-1", "name": "Room 4"}
        # lws runs no ping timer per connection (server.c): the front door
        # turned on TCP keepalive when it accepted this one, so a classroom
        # that vanishes is found by the kernel. ss shows the server side's timer.
        # (ss shows one timer: the retransmit timer while data is unacknowledged.)
        def timers():
            out = subprocess.run(["ss", "-tnoH", "state", "established", f"( sport = :{gw.port} )"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            assert out, "the WebSocket connection is not listed"
            return out
        for _ in range(50):
            if all("timer:(keepalive," in line for line in timers().splitlines()):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no keepalive timer on the server side: {timers()}")
        await a.ws.close()
    asyncio.run(scenario())


def test_stalled_and_idle_connections_are_closed_at_the_timeout(gateway_factory):
    gw = gateway_factory(streams={}, gateway_keys={"http_idle_timeout": 2})
    write_hls(gw, "room", {"index.m3u8": PLAYLIST})
    stalled = []
    for _ in range(20):  # slowloris: a request head that never ends, a byte at a time
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        s.sendall(b"GET /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\n")
        stalled.append(s)
    idle = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    idle.sendall(b"GET /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(idle.makefile("rb"))[0] == 200
    start = time.monotonic()
    for _ in range(4):
        time.sleep(0.5)
        for s in stalled:
            try:
                s.sendall(b"X")
            except (ConnectionResetError, BrokenPipeError):
                pass  # already closed (a stalled head is unread: closing resets)
    # Meanwhile the server answers everyone else at once.
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=2)
    conn.request("GET", "/hls/room/index.m3u8")
    assert conn.getresponse().read() == PLAYLIST
    conn.close()
    for s in stalled + [idle]:
        s.settimeout(5)
        try:
            assert s.recv(65536) == b""  # closed without an answer
        except ConnectionResetError:
            pass  # closed while the client was still sending: also no answer
        s.close()
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed <= 5.0, elapsed


def test_oversized_request_heads_get_431(gateway_factory):
    gw = gateway_factory(streams={})
    for request in (b"GET /hls/" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /api/v1/streams/" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n",
                    b"GET /hls/room/index.m3u8 HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
            s.sendall(request)
            f = s.makefile("rb")
            status, headers, body = read_response(f)
            assert status == 431 and b'"code":"too_large"' in body
            assert f.read() == b""  # and the connection is closed
    # A long path that still fits is an ordinary 404, not a crash.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(b"GET /hls/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s.makefile("rb"))[0] == 404
    assert gw.json("GET", "/healthz")[0] == 200


def test_requests_the_front_door_does_not_serve_keep_their_answers(gateway_factory):
    gw = gateway_factory(streams={})
    write_hls(gw, "room", {"index.m3u8": PLAYLIST})

    def ask(raw):
        with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
            s.sendall(raw)
            return read_response(s.makefile("rb"))
    # HEAD and OPTIONS of /hls/ are routed by server.c as before.
    assert ask(b"HEAD /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 405
    assert ask(b"OPTIONS /hls/room/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 204
    # Encoded and dotted paths are normalised by lws and static.c, not refused.
    assert ask(b"GET /hls/room/%69ndex.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")[2] == PLAYLIST
    assert ask(b"GET /hls/room/./index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")[2] == PLAYLIST
    # A request head split across writes is still one request.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        for part in (b"GET /hls/ro", b"om/index.m3u8 HTT", b"P/1.1\r\nHo", b"st: x\r\n", b"\r\n"):
            s.sendall(part)
            time.sleep(0.05)
        assert read_response(s.makefile("rb"))[2] == PLAYLIST


def test_a_playlist_not_yet_written_is_not_served(gateway_factory):
    gw = gateway_factory(streams={})
    folder = write_hls(gw, "room", {"index.m3u8": b""})  # hlssink2 has created, not written it
    assert gw.request("GET", "/hls/room/index.m3u8")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.request("GET", "/hls/room/index.m3u8")  # through lws: the same rule
    assert conn.getresponse().status == 404
    conn.close()
    (folder / "index.m3u8").write_bytes(PLAYLIST)
    status, _, body = gw.request("GET", "/hls/room/index.m3u8")
    assert status == 200 and body == PLAYLIST


def test_a_live_playlist_is_never_seen_half_written(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL}, extra="[hls]\nsegment_duration=1\n")
    gw.wait_live("demo")
    wait_for(lambda: gw.request("GET", "/hls/demo/index.m3u8")[0] == 200, 30,
             what="a first playlist")
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    seen, fetched, deadline = set(), 0, time.monotonic() + 20
    while time.monotonic() < deadline and fetched < 1000000 and len(seen) < 4:
        conn.request("GET", "/hls/demo/index.m3u8")
        r = conn.getresponse()
        text = r.read().decode()
        fetched += 1
        assert r.status == 200
        lines = text.splitlines()
        assert lines[0] == "#EXTM3U" and text.endswith("\n"), text
        for i, line in enumerate(lines):
            if line.startswith("#EXTINF:"):
                assert lines[i + 1] and not lines[i + 1].startswith("#"), text
        seen.add(tuple(playlist_segments(text)))
    conn.close()
    assert len(seen) >= 4, seen  # the playlist was rewritten (renamed over) while being read
