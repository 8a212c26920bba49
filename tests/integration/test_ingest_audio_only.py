"""Audio-only sources (a microphone on an encoder, a camera sending only
sound): ffmpeg publishes AAC alone over RTMP and SRT, and a gst-rtsp-server
camera serves AAC alone. Each stream goes live with audio health, its HLS is
audio-only and decodes, aiortc hears it over WHEP, and the gateway stops
cleanly on SIGTERM (the fixture asserts exit status 0)."""
import asyncio
import socket

import pytest

from conftest import free_port, wait_for
from ingest_util import (FakeCamera, ffmpeg_publisher, probe_segment, stop, track,
                         wait_new_segment)
from whep_aiortc import Viewer

KEY = "mic-4b2e"


def rtmp(gateway_factory):
    port = free_port()
    gw = gateway_factory(streams={}, extra=(
        f"[rtmp]\nport={port}\naddress=127.0.0.1\n[stream mic]\nurl=rtmp://\nkey={KEY}\n"))
    return gw, ffmpeg_publisher(["-f", "flv", f"rtmp://127.0.0.1:{port}/live/{KEY}"], video=False)


def srt(gateway_factory):
    port = free_port(socket.SOCK_DGRAM)
    gw = gateway_factory(streams={"mic": f"srt://127.0.0.1:{port}?mode=listener"})
    return gw, ffmpeg_publisher(["-f", "mpegts", f"srt://127.0.0.1:{port}?mode=caller"],
                                video=False)


def rtsp(gateway_factory):
    cam = FakeCamera(free_port(), video="none", audio="aac").start()
    return gateway_factory(streams={"mic": cam.url()}), cam.proc


def whep_hears(gw, name, offer_video=False):
    """aiortc offers audio (and video, as a browser does: the answer then
    keeps the video m-line, the bundle tag, as inactive) and decodes audio
    frames. Returns the frames and the answer."""
    async def run():
        v = Viewer(gw.base, name, want_video=0, want_audio=25)
        assert await v.connect(audio=True, video=offer_video) == 201, v.answer
        try:
            assert await v.wait(30), f"decoded {v.video_frames} video, {v.audio_frames} audio"
            return v.video_frames, v.audio_frames, v.answer
        finally:
            await v.close()

    return asyncio.run(run())


@pytest.mark.parametrize("source", [rtmp, srt, rtsp], ids=["rtmp", "srt", "rtsp"])
def test_audio_only_source_goes_live_and_plays(gateway_factory, source):
    gw, publisher = source(gateway_factory)
    try:
        # 64 kbit/s of AAC; the figure is smoothed over a few seconds.
        s = wait_for(lambda: (s := gw.stream("mic")) and s["state"] == "live" and
                     (a := track(s, "audio")) and a["bitrate"] > 32000 and s, 40,
                     what="live with audio health")
        assert track(s, "video") is None, s
        assert track(s, "audio")["codec"] == "AAC"
        assert track(s, "audio")["bitrate"] < 400000, s
        assert s["last_error"] is None, s

        streams = probe_segment(gw, "mic", wait_new_segment(gw, "mic"))
        assert set(streams) == {"audio"}, streams
        assert streams["audio"]["codec_name"] == "aac"
        assert int(streams["audio"]["nb_read_frames"]) > 0

        video_frames, audio_frames, answer = whep_hears(gw, "mic")
        assert video_frames == 0 and audio_frames >= 25
        assert "opus/48000" in answer.lower()
        video_frames, audio_frames, answer = whep_hears(gw, "mic", offer_video=True)
        assert video_frames == 0 and audio_frames >= 25
        assert "a=inactive" in answer and "m=video 0 " not in answer, answer
        assert gw.stream("mic")["state"] == "live"
    finally:
        stop(publisher)
