"""RTMP ingest into our own small RTMP server: ffmpeg publishes H.264 + AAC
to rtmp://127.0.0.1:PORT/live/KEY, the stream goes live and plays over HLS
and WHEP (aiortc);
a wrong key, a second publisher on a key in use and garbage are refused while
the gateway goes on."""
import socket
import struct

from conftest import free_port, wait_for
from ingest_util import (ffmpeg_publisher, probe_segment, stop, track, wait_new_segment, wait_state,
                         whep_decodes)

KEY = "stage-7f3a9c"


def rtmp_gateway(gateway_factory):
    port = free_port()
    gw = gateway_factory(streams={}, extra=(
        f"[rtmp]\nport={port}\naddress=127.0.0.1\n"
        f"[stream stage]\nurl=rtmp://\nkey={KEY}\n"))
    wait_state(gw, "stage", "idle", 10)
    return gw, port


def publish(port, key, seconds=60):
    return ffmpeg_publisher(["-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}"], seconds=seconds)


def publish_goes_live(gw, port, key, name):
    """ffmpeg publishes to key; stream name goes live."""
    enc = publish(port, key)
    try:
        gw.wait_live(name, 30)
    finally:
        stop(enc)


def test_rtmp_publisher_live_hls_one_publisher_per_key(gateway_factory):
    gw, port = rtmp_gateway(gateway_factory)
    enc = publish(port, KEY)
    try:
        s = wait_for(lambda: (s := gw.stream("stage")) and s["state"] == "live" and
                     track(s, "audio") and s, 30, what="live with audio")
        video = track(s, "video")
        assert (video["codec"], video["width"], video["height"]) == ("H264", 320, 240)
        assert track(s, "audio")["codec"] == "AAC"
        streams = probe_segment(gw, "stage", wait_new_segment(gw, "stage"))
        assert streams["video"]["codec_name"] == "h264"
        assert int(streams["video"]["nb_read_frames"]) > 0
        assert streams["audio"]["codec_name"] == "aac"
        assert whep_decodes(gw, "stage") == (320, 240)

        # A second publisher on the key in use is refused; the first goes on.
        second = publish(port, KEY, seconds=5)
        try:
            assert second.wait(30) != 0
        finally:
            stop(second)
        assert "in use by another publisher" in gw.log()
        assert gw.stream("stage")["state"] == "live"
        assert enc.poll() is None

        stop(enc)
        assert wait_state(gw, "stage", "idle", 20)["last_error"]
        assert KEY not in gw.log()
    finally:
        stop(enc)


def handshake(sock):
    sock.sendall(b"\x03" + bytes(1536))
    got = b""
    while len(got) < 1 + 2 * 1536:
        data = sock.recv(65536)
        assert data, "server closed during the handshake"
        got += data
    sock.sendall(bytes(1536))


def closed_by_server(sock, timeout=10):
    """True when the server closes the connection (reads until EOF)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_rtmp_wrong_key_and_garbage_are_refused(gateway_factory):
    gw, port = rtmp_gateway(gateway_factory)

    enc = publish(port, "not-the-key", seconds=5)
    try:
        assert enc.wait(30) != 0
    finally:
        stop(enc)
    assert "no stream has this stream key" in gw.log()
    assert gw.stream("stage")["state"] == "idle"

    # Not RTMP at all (wrong version byte).
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\n" + bytes(1600))
        assert closed_by_server(s)
    # A message header announcing 16 MB: over the limit.
    with socket.create_connection(("127.0.0.1", port)) as s:
        handshake(s)
        s.sendall(bytes([3]) + b"\x00\x00\x00" + b"\xff\xff\xff" + bytes([20]) + bytes(4))
        assert closed_by_server(s)
    # A chunk size beyond the limit.
    with socket.create_connection(("127.0.0.1", port)) as s:
        handshake(s)
        s.sendall(bytes([2]) + bytes(3) + b"\x00\x00\x04" + bytes([1]) + bytes(4) +
                  struct.pack(">I", 0x7FFFFFFF))
        assert closed_by_server(s)
    # A chunk stream that starts without a full header.
    with socket.create_connection(("127.0.0.1", port)) as s:
        handshake(s)
        s.sendall(bytes([0xC5]) + bytes(200))
        assert closed_by_server(s)

    # After all that, the gateway is fine and the right key still works.
    assert gw.request("GET", "/healthz")[0] == 200
    publish_goes_live(gw, port, KEY, "stage")


def test_rtmp_stream_keys_in_the_api(gateway_factory):
    gw, port = rtmp_gateway(gateway_factory)
    status, body = gw.json("POST", "/api/v1/streams", {"name": "nokey", "url": "rtmp://"})
    assert status == 400 and body["error"]["field"] == "key", body
    status, body = gw.json("POST", "/api/v1/streams", {"name": "dup", "url": "rtmp://", "key": KEY})
    assert status == 400 and body["error"]["field"] == "key", body
    status, body = gw.json("POST", "/api/v1/streams", {"name": "x", "url": "rtmp://host/live"})
    assert status == 400 and body["error"]["field"] == "url", body
    status, body = gw.json("POST", "/api/v1/streams",
                           {"name": "second", "url": "rtmp://", "key": "second-key"})
    assert status == 201, body
    assert "second-key" not in str(body)
    publish_goes_live(gw, port, "second-key", "second")


def test_rtmp_port_in_use_reconnects_until_it_frees(gateway_factory):
    """Another program holds the RTMP port: the stream is still created, shows
    reconnecting with the port in last_error, owns its key meanwhile (a second
    stream with it is refused), and listens once the port frees; removed, it
    leaves the key to another stream."""
    port = free_port()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        gw = gateway_factory(streams={}, extra=f"[rtmp]\nport={port}\naddress=127.0.0.1\n")
        status, body = gw.json("POST", "/api/v1/streams",
                               {"name": "stage", "url": "rtmp://", "key": KEY})
        assert status == 201, body
        s = wait_state(gw, "stage", "reconnecting", 10)
        assert f"127.0.0.1:{port}" in s["last_error"], s
        # Retried with the backoff, still refused while the port is held.
        wait_for(lambda: gw.stream("stage")["reconnects"] >= 2, 10, what="two retries")
        assert gw.stream("stage")["state"] == "reconnecting"
        # The key is stage's although its listener is not up: a second stream
        # with that key is refused at create, naming the field.
        status, body = gw.json("POST", "/api/v1/streams",
                               {"name": "dup", "url": "rtmp://", "key": KEY})
        assert status == 400 and body["error"]["field"] == "key", body
        assert "stage" in body["error"]["message"], body
        assert gw.json("GET", "/api/v1/streams/dup")[0] == 404
    finally:
        squatter.close()
    wait_state(gw, "stage", "idle", 20)
    publish_goes_live(gw, port, KEY, "stage")
    # Removing the stream frees its key for another stream, which then
    # receives what is published to it.
    assert gw.json("DELETE", "/api/v1/streams/stage")[0] in (200, 204)
    status, body = gw.json("POST", "/api/v1/streams", {"name": "dup", "url": "rtmp://", "key": KEY})
    assert status == 201, body
    wait_state(gw, "dup", "idle", 10)
    publish_goes_live(gw, port, KEY, "dup")
