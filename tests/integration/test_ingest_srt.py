"""SRT ingest: ffmpeg publishes MPEG-TS (H.264 + AAC) to a listener stream,
which goes live and plays over HLS and WHEP (aiortc), goes idle when the encoder leaves and
takes the next publisher; the passphrase is the stream's key."""
import socket

from conftest import free_port, wait_for
from ingest_util import (ffmpeg_publisher, probe_segment, segments, stop, track, wait_new_segment,
                         wait_state, whep_decodes)

PASSPHRASE = "museum-hall-7"


def publish(port, passphrase=None, seconds=60):
    url = f"srt://127.0.0.1:{port}?mode=caller"
    if passphrase:
        url += f"&passphrase={passphrase}"
    return ffmpeg_publisher(["-f", "mpegts", url], seconds=seconds)


def test_srt_publisher_live_idle_and_back(gateway_factory):
    port = free_port(socket.SOCK_DGRAM)
    gw = gateway_factory(streams={"lecture": f"srt://127.0.0.1:{port}?mode=listener"})
    assert wait_state(gw, "lecture", "idle", 10)["last_error"] is None
    enc = publish(port)
    try:
        s = wait_for(lambda: (s := gw.stream("lecture")) and s["state"] == "live" and
                     track(s, "audio") and s, 30, what="live with audio")
        video = track(s, "video")
        assert (video["codec"], video["width"], video["height"]) == ("H264", 320, 240)
        assert track(s, "audio")["codec"] == "AAC"
        seg = wait_new_segment(gw, "lecture")
        streams = probe_segment(gw, "lecture", seg)
        assert streams["video"]["codec_name"] == "h264"
        assert int(streams["video"]["nb_read_frames"]) > 0
        assert streams["audio"]["codec_name"] == "aac"
        assert whep_decodes(gw, "lecture") == (320, 240)

        stop(enc)
        gone = wait_state(gw, "lecture", "idle", 20)
        assert gone["last_error"]
        before = segments(gw, "lecture")

        # The next encoder session continues the same stream and HLS run.
        enc = publish(port)
        back = gw.wait_live("lecture", 30)
        assert back["reconnects"] >= 1
        seg2 = wait_new_segment(gw, "lecture", after=before)
        assert seg2.rsplit("-", 1)[0] == seg.rsplit("-", 1)[0]
        assert int(probe_segment(gw, "lecture", seg2)["video"]["nb_read_frames"]) > 0
    finally:
        stop(enc)


def test_srt_passphrase_is_the_stream_key(gateway_factory):
    port = free_port(socket.SOCK_DGRAM)
    gw = gateway_factory(streams={}, extra=(
        f"[stream vault]\nurl=srt://127.0.0.1:{port}?mode=listener\nkey={PASSPHRASE}\n"))
    wait_state(gw, "vault", "idle", 10)
    # Without the passphrase the encoder is refused.
    enc = publish(port, seconds=5)
    try:
        assert enc.wait(30) != 0
        assert gw.stream("vault")["state"] == "idle"
    finally:
        stop(enc)
    enc = publish(port, PASSPHRASE)
    try:
        gw.wait_live("vault", 30)
        _, _, body = gw.request("GET", "/api/v1/streams/vault")
        assert PASSPHRASE not in body.decode()
        assert PASSPHRASE not in gw.log()
    finally:
        stop(enc)


def test_bad_srt_urls_and_keys(gateway_factory):
    gw = gateway_factory(streams={})
    for url in ("srt://127.0.0.1", "srt://:9000?mode=caller", "srt://:9000?passphrase=abcdefghijk",
                "srt://:9000?mode=sideways", "srt://:9000?colour=red"):
        status, body = gw.json("POST", "/api/v1/streams", {"name": "bad", "url": url})
        assert status == 400 and body["error"]["field"] == "url", (url, body)
    port = free_port(socket.SOCK_DGRAM)
    status, body = gw.json("POST", "/api/v1/streams", {
        "name": "short", "url": f"srt://127.0.0.1:{port}?mode=listener", "key": "short"})
    assert status == 400 and body["error"]["field"] == "key", body


def test_srt_listener_admits_only_its_streamid(gateway_factory):
    """srt://:PORT?mode=listener&streamid=ID: a caller with another streamid
    (or none) is refused by SRT access control, the right one goes live."""
    port = free_port(socket.SOCK_DGRAM)
    gw = gateway_factory(streams={
        "hall": f"srt://127.0.0.1:{port}?mode=listener&streamid=hall-2"})
    wait_state(gw, "hall", "idle", 10)

    def caller(streamid, seconds=60):
        url = f"srt://127.0.0.1:{port}?mode=caller"
        if streamid is not None:
            url += f"&streamid={streamid}"
        return ffmpeg_publisher(["-f", "mpegts", url], seconds=seconds)

    for wrong in ("hall-3", None):
        enc = caller(wrong, seconds=5)
        try:
            assert enc.wait(30) != 0, f"streamid {wrong} was admitted"
        finally:
            stop(enc)
        assert gw.stream("hall")["state"] == "idle"
    assert "streamid 'hall-3' is not this stream's" in gw.log()

    enc = caller("hall-2")
    try:
        gw.wait_live("hall", 30)
        assert int(probe_segment(gw, "hall", wait_new_segment(gw, "hall"))["video"]
                   ["nb_read_frames"]) > 0
    finally:
        stop(enc)
