"""RTSP ingest against a fake IP camera (gst-rtsp-server): the stream goes
live, HLS decodes, the camera is cut and comes back while the outputs keep
running, credentials never show, and cameras we cannot take fail clearly."""
import asyncio
import json
import re
import time

import pytest

from conftest import free_port, wait_for
from ingest_util import (FakeCamera, poll, probe_segment, segments, track, wait_new_segment,
                         wait_state)
from whep_aiortc import Viewer

USER, PASSWORD = "hall3", "s3cret-Pw"


def test_camera_live_then_cut_and_back(gateway_factory):
    cam = FakeCamera(free_port(), user=USER, password=PASSWORD).start()
    try:
        gw = gateway_factory(streams={"hall": cam.url(USER, PASSWORD)})
        live = gw.wait_live("hall")
        assert live["url"] == f"rtsp://{USER}:***@127.0.0.1:{cam.port}/cam"

        # Health: caps, counted frames, keyframe interval (the camera sends one a second).
        live = wait_for(lambda: (s := gw.stream("hall")) and track(s, "audio") and
                        track(s, "video")["keyframe_interval"] > 0 and
                        track(s, "video")["measured_fps"] > 5 and s["bitrate"] > 0 and s,
                        20, what="health figures")
        video, audio = track(live, "video"), track(live, "audio")
        assert (video["codec"], video["width"], video["height"]) == ("H264", 320, 240)
        assert 0.5 <= video["keyframe_interval"] <= 2.0
        assert audio["codec"] == "AAC"
        reconnects = live["reconnects"]

        seg = wait_new_segment(gw, "hall")
        streams = probe_segment(gw, "hall", seg)
        assert streams["video"]["codec_name"] == "h264"
        assert (streams["video"]["width"], streams["video"]["height"]) == (320, 240)
        assert int(streams["video"]["nb_read_frames"]) > 0
        assert streams["audio"]["codec_name"] == "aac"
        run_prefix = seg.rsplit("-", 1)[0]

        # Power cut while an aiortc viewer watches over WHEP: the stream waits
        # for the camera, the outputs stay, and the same viewer (no new offer)
        # decodes frames again once the camera is back.
        async def watch_across_the_cut():
            v = Viewer(gw.base, "hall", want_video=30, want_audio=10)
            assert await v.connect() == 201, v.answer
            try:
                assert await v.wait(30), f"decoded {v.video_frames} video frames"
                await asyncio.to_thread(cam.kill)
                lost = await poll(lambda: (s := gw.stream("hall")) and
                                  s["state"] == "reconnecting" and s, 20, "reconnecting")
                at_cut = v.video_frames
                before = await asyncio.to_thread(segments, gw, "hall")
                await asyncio.to_thread(cam.start)
                back = await poll(lambda: (s := gw.stream("hall")) and s["state"] == "live" and s,
                                  60, "live again")
                await poll(lambda: v.video_frames >= at_cut + 30, 30,
                           "the same viewer decoding after the cut")
                assert v.size == (320, 240)
                assert v.location and v.pc.connectionState == "connected"
                return lost, before, back
            finally:
                await v.close()

        lost, before, back = asyncio.run(watch_across_the_cut())
        assert lost["last_error"]
        assert back["reconnects"] > reconnects
        # New segments continue the same HLS run (the output was never rebuilt)
        # and decode.
        seg = wait_new_segment(gw, "hall", after=before)
        assert seg.rsplit("-", 1)[0] == run_prefix
        streams = probe_segment(gw, "hall", seg)
        assert int(streams["video"]["nb_read_frames"]) > 0
        assert streams["audio"]["codec_name"] == "aac"

        # The password shows nowhere: not in the API, not in the log.
        _, _, body = gw.request("GET", "/api/v1/streams")
        assert PASSWORD not in body.decode()
        assert PASSWORD not in gw.log()
    finally:
        cam.kill()


def test_udp_camera_with_pcma_audio(gateway_factory):
    """G.711 audio is decoded and re-encoded once; RTP over UDP by config."""
    cam = FakeCamera(free_port(), audio="pcma").start()
    try:
        gw = gateway_factory(streams={"door": cam.url()}, extra="[rtsp]\ntransport=udp\n")
        s = wait_for(lambda: (s := gw.stream("door")) and s["state"] == "live" and
                     track(s, "audio") and track(s, "audio")["bitrate"] > 0 and s,
                     30, what="live with audio")
        assert track(s, "audio")["codec"] == "AAC"
        streams = probe_segment(gw, "door", wait_new_segment(gw, "door"))
        assert int(streams["video"]["nb_read_frames"]) > 0
        assert streams["audio"]["codec_name"] == "aac"
    finally:
        cam.kill()


@pytest.mark.parametrize("codec,name", [("mjpeg", "MJPEG"), ("h265", "H.265")])
def test_unsupported_camera_codec_is_a_clear_error(gateway_factory, codec, name):
    """An MJPEG or H.265 camera is refused with a last_error naming the codec;
    the gateway and its other streams go on."""
    cam = FakeCamera(free_port(), video=codec, audio="none").start()
    try:
        gw = gateway_factory(streams={"old": cam.url(),
                                      "demo": "test://?width=320&height=240&fps=15&bitrate=300"})
        s = wait_for(lambda: (s := gw.stream("old")) and s["last_error"] and s, 30,
                     what="an error on the MJPEG stream")
        assert name in s["last_error"] and "H.264" in s["last_error"], s["last_error"]
        assert s["state"] in ("reconnecting", "starting")
        assert gw.wait_live("demo")["state"] == "live"
        assert gw.stream("old")["state"] != "live"
        assert gw.request("GET", "/healthz")[0] == 200
    finally:
        cam.kill()


def test_bad_rtsp_urls(gateway_factory):
    gw = gateway_factory(streams={})
    status, body = gw.json("POST", "/api/v1/streams", {"name": "x", "url": "rtsp:///nohost"})
    assert status == 400 and body["error"]["field"] == "url"

    # A camera that is not there: the stream keeps trying, saying why, and
    # the password stays hidden even in the error.
    port = free_port()
    url = f"rtsp://admin:{PASSWORD}@127.0.0.1:{port}/cam"
    status, body = gw.json("POST", "/api/v1/streams", {"name": "gone", "url": url})
    assert status == 201, body
    s = wait_for(lambda: (s := gw.stream("gone")) and s["state"] == "reconnecting" and
                 s["last_error"] and s, 20, what="reconnecting with an error")
    assert PASSWORD not in json.dumps(s)
    assert PASSWORD not in gw.log()


def test_camera_without_audio_and_wrong_password(gateway_factory):
    """A camera without audio gives a video-only stream; a wrong password is a
    clear error that never shows the password."""
    cam = FakeCamera(free_port(), audio="none", user=USER, password=PASSWORD).start()
    try:
        wrong = "Wr0ng-pass"
        gw = gateway_factory(streams={"mute": cam.url(USER, PASSWORD),
                                      "locked": cam.url(USER, wrong)})
        s = gw.wait_live("mute")
        assert [t["kind"] for t in s["tracks"]] == ["video"]
        streams = probe_segment(gw, "mute", wait_new_segment(gw, "mute"))
        assert int(streams["video"]["nb_read_frames"]) > 0 and "audio" not in streams

        s = wait_for(lambda: (s := gw.stream("locked")) and s["state"] == "reconnecting" and
                     s["last_error"] and s, 20, what="refused credentials")
        assert "unauthorized" in s["last_error"].lower() or "auth" in s["last_error"].lower(), \
            s["last_error"]
        assert wrong not in json.dumps(s) and wrong not in gw.log()
    finally:
        cam.kill()


def test_packetiser_idles_without_viewers_and_keeps_fast_start(gateway_factory):
    """With no viewer the WebRTC packetiser gets nothing to do (CPU), yet a
    viewer who comes later starts at once on the cached keyframe: the camera
    sends a keyframe only every 40 s and cannot be asked for one (RTSP), so
    without the cache the second viewer would see nothing for half a minute."""
    cam = FakeCamera(free_port(), audio="none", fps=15, gop=600, kbps=150).start()
    try:
        gw = gateway_factory(streams={"hall": cam.url()})
        gw.wait_live("hall")
        assert "video packetiser idle (no viewer)" in gw.log()

        async def watch(frames, timeout):
            v = Viewer(gw.base, "hall", want_video=frames, want_audio=0)
            assert await v.connect(audio=False) == 201, v.answer
            try:
                return await v.wait(timeout), v.video_frames
            finally:
                assert await v.delete() == 204
                await v.close()

        assert asyncio.run(watch(10, 15)) == (True, 10)
        wait_for(lambda: gw.json("GET", "/api/v1/streams/hall/viewers")[1]["viewers"] == [], 10,
                 what="no viewer left")
        # The gate shuts again and caches the frames after the keyframe.
        wait_for(lambda: gw.log().count("video packetiser idle (no viewer)") >= 2, 10,
                 what="the packetiser idle again")
        time.sleep(2)
        ok, frames = asyncio.run(watch(10, 12))
        assert ok, f"the second viewer decoded {frames} frames: no fast start"
        handed = re.findall(r"video packetiser running, (\d+) buffers of the GOP handed over",
                            gw.log())
        assert len(handed) >= 2 and int(handed[-1]) > 15, handed
    finally:
        cam.kill()


def test_audio_goes_on_when_the_cameras_video_stops(gateway_factory):
    """The camera's video dies 3 s in while its microphone goes on. HLS (whose
    muxer now waits for video) must not hold up the audio: it keeps flowing
    into the stream (live, audio bitrate), a WebRTC viewer still hears it, and
    SIGTERM stops the gateway (the fixture checks exit 0)."""
    # Snow: the encoder reaches its 300 kbit/s, so the video's fall is plain.
    cam = FakeCamera(free_port(), audio="aac", pattern="snow", **{"video-stops": 3}).start()
    try:
        gw = gateway_factory(streams={"hall": cam.url()})
        gw.wait_live("hall")
        # The smoothed bitrates rise, then the video's decays once it stopped.
        wait_for(lambda: track(gw.stream("hall"), "video")["bitrate"] > 100000, 20,
                 what="the video flowing")
        wait_for(lambda: track(gw.stream("hall"), "video")["bitrate"] < 20000, 30,
                 what="the video stopped")
        # Well over HLS's 3 s of queue.
        time.sleep(5)
        s = gw.stream("hall")
        assert s["state"] == "live", s
        assert track(s, "audio")["bitrate"] > 40000, s

        async def listen():
            v = Viewer(gw.base, "hall", want_video=0, want_audio=25)
            assert await v.connect() == 201, v.answer
            try:
                return await v.wait(20), v.audio_frames
            finally:
                await v.close()

        heard, frames = asyncio.run(listen())
        assert heard, f"the viewer heard {frames} audio frames"
        assert gw.stream("hall")["state"] == "live"
    finally:
        cam.kill()
