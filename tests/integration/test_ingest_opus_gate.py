"""The AAC->Opus transcode of a camera runs only while someone takes Opus: a
WebRTC viewer of the stream or a switch stream showing the camera. A fake IP
camera (gst-rtsp-server) sends H.264 + AAC (a sine tone); with nobody
watching the gateway says the transcode is idle; an aiortc viewer that comes
gets the tone (decoded Opus with signal in it) within a short bound of its
first video frame, and so does the next viewer after the first left; a
switch stream showing the camera keeps the transcode running with no viewer."""
import asyncio
import time

from conftest import free_port, wait_for
from ingest_util import FakeCamera
from whep_aiortc import Viewer

IDLE = "stream cam: Opus transcode idle"
RUNNING = "stream cam: Opus transcode running"
# From the WHEP offer to the first decoded audio frame (ICE and DTLS
# included): the transcode starts with the next AAC frame (21 ms) and opusenc's
# first packet follows within a few frames; 0.12-0.15 s measured here.
FIRST_AUDIO_S = 1.0


class Listener(Viewer):
    """A viewer that notes when its first audio frame came and how loud it is."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.first_audio_s = None
        self.peak = 0

    async def _consume(self, track):
        if track.kind != "audio":
            return await super()._consume(track)
        try:
            while True:
                frame = await track.recv()
                if self.first_audio_s is None:
                    self.first_audio_s = time.monotonic() - self.started
                self.audio_frames += 1
                samples = frame.to_ndarray()
                self.peak = max(self.peak, int(abs(samples).max()))
                if self.video_frames >= self.want_video and self.audio_frames >= self.want_audio:
                    self.done.set()
        except Exception:  # MediaStreamError when the connection closes
            pass


async def listen(gw):
    v = Listener(gw.base, "cam", want_video=20, want_audio=25)
    assert await v.connect() == 201, v.answer
    try:
        assert await v.wait(30), f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
    finally:
        assert await v.delete() in (200, 204)
        await v.close()
    return v


def test_opus_transcode_runs_only_while_taken(gateway_factory):
    cam = FakeCamera(free_port(), audio="aac").start()
    try:
        gw = gateway_factory(streams={"cam": cam.url()}, extra="[hls]\nenabled=false\n")
        gw.wait_live("cam")
        # Nobody takes Opus: the transcode is idle, the AAC track is live.
        wait_for(lambda: IDLE in gw.log(), 20, what="the transcode idle")
        assert RUNNING not in gw.log()
        assert wait_for(lambda: (s := gw.stream("cam")) and
                        any(t["kind"] == "audio" and t["codec"] == "AAC" for t in s["tracks"]),
                        10, what="the AAC track")

        for n in (1, 2):
            v = asyncio.run(listen(gw))
            # The tone reached the viewer through the Opus transcode started for it.
            assert v.peak > 1000, v.peak
            assert v.first_audio_s < FIRST_AUDIO_S, (
                f"viewer {n}: first audio {v.first_audio_s:.2f} s after the offer")
            assert gw.log().count(RUNNING) == n
            # The viewer left: idle again.
            wait_for(lambda: gw.log().count(IDLE) == n + 1, 10, what=f"idle after viewer {n}")

        # A switch stream showing the camera takes its Opus, with no viewer.
        status, body = gw.json("POST", "/api/v1/streams", {"name": "hall", "url": "switch://cam"})
        assert status == 201, body
        wait_for(lambda: gw.log().count(RUNNING) == 3, 10, what="running for the switch stream")
        gw.wait_live("hall")
        assert gw.log().count(IDLE) == 3
        # Removed, it takes nothing any more.
        assert gw.json("DELETE", "/api/v1/streams/hall")[0] in (200, 204)
        wait_for(lambda: gw.log().count(IDLE) == 4, 10, what="idle after the switch stream left")
    finally:
        cam.kill()
