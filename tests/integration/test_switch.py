"""Camera switching: a switch:// stream over two test streams with different
patterns. A WebRTC viewer (aiortc) keeps decoding on the same connection
across POST /api/v1/streams/NAME/switch, and the picture changes; the
switch stream's HLS keeps decoding too; bad switch requests get clear errors."""
import asyncio

from conftest import wait_for
from hls_util import decode_errors, playlist_segments
from whep_aiortc import Viewer

SIZE = "width=320&height=240&bitrate=300"
STREAMS = {"cam1": f"test://?pattern=ball&{SIZE}", "cam2": f"test://?pattern=smpte&{SIZE}",
           "hall": "switch://cam1,cam2"}


class Watcher(Viewer):
    """A viewer that remembers the mean brightness of each decoded frame."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.means = []

    async def _consume(self, track):
        if track.kind != "video":
            return await super()._consume(track)
        try:
            while True:
                frame = await track.recv()
                self.video_frames += 1
                self.size = (frame.width, frame.height)
                self.means.append(float(frame.to_ndarray(format="gray").mean()))
                if self.video_frames >= self.want_video:
                    self.done.set()
        except Exception:  # MediaStreamError when the connection closes
            pass


def test_switch_changes_the_picture_without_renegotiation(gateway_factory, caplog):
    gw = gateway_factory(streams=STREAMS)
    gw.wait_live("cam1")
    gw.wait_live("cam2")
    gw.wait_live("hall")
    status, body = gw.json("GET", "/api/v1/streams/hall/switch")
    assert status == 200 and body["current"] == "cam1" and body["pending"] is None, body

    async def run():
        v = Watcher(gw.base, "hall", want_video=30, want_audio=0)
        assert await v.connect() == 201, v.answer
        try:
            assert await v.wait(40), f"decoded {v.video_frames} frames of cam1"
            before = list(v.means)
            status, body = await asyncio.get_running_loop().run_in_executor(
                None, lambda: gw.json("POST", "/api/v1/streams/hall/switch", {"to": "cam2"}))
            assert status in (200, 202), body
            n = v.video_frames
            v.want_video = n + 60
            v.done.clear()
            assert await v.wait(40), f"decoded {v.video_frames - n} frames after the switch"
            return before, v.means[n:]
        finally:
            await v.close()

    before, after = asyncio.run(run())
    # aiortc's decoder logs each packet it cannot decode: none across the switch.
    assert not [r.getMessage() for r in caplog.records if "failed to decode" in r.getMessage()]
    status, body = gw.json("GET", "/api/v1/streams/hall/switch")
    assert status == 200 and body["current"] == "cam2" and body["pending"] is None, body
    assert gw.stream("hall")["switch"] == {"current": "cam2", "pending": None}
    assert "switch" not in gw.stream("cam1") and "publisher" not in gw.stream("cam1")
    # ball on black is dark; SMPTE bars are bright: the picture changed.
    assert max(before) < 60, before
    assert sum(m > 80 for m in after[-20:]) == 20, after
    # HLS of the switch stream (its window holds the switch) decodes cleanly.
    wait_for(lambda: (s := gw.request("GET", "/hls/hall/index.m3u8")) and s[0] == 200 and
             len(playlist_segments(s[2].decode())) >= 4, 40, what="HLS of hall")
    assert decode_errors(gw.base + "/hls/hall/index.m3u8", seconds=8) == ""


def test_bad_switch_requests(gateway_factory):
    gw = gateway_factory(streams=STREAMS)
    assert gw.json("POST", "/api/v1/streams/hall/switch", {"to": "cam9"})[0] == 400
    assert gw.json("POST", "/api/v1/streams/hall/switch", {"too": "cam2"})[0] == 400
    assert gw.json("POST", "/api/v1/streams/cam1/switch", {"to": "cam2"})[0] == 404
    assert gw.json("POST", "/api/v1/streams/nosuch/switch", {"to": "cam2"})[0] == 404
    status, body = gw.json("POST", "/api/v1/streams", {"name": "bad", "url": "switch://a,b c"})
    assert status == 400 and body["error"]["field"] == "url", body
