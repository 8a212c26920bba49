"""WHIP ingest with real, independent WebRTC peers: aiortc publishes H.264 +
Opus to a whip:// stream; another aiortc watches it over WHEP (relayed from
the publisher's packets) and decodes frames of the published size; ffprobe
decodes the stream's HLS (H.264 + AAC transcoded once from Opus). DELETE
ends the session and the stream is idle again; bad requests get clear errors."""
import asyncio

from conftest import wait_for
from hls_util import probe, playlist_segments
from whep_aiortc import Viewer
from whip_aiortc import KEYFRAMES_FORCED, Publisher

KEY = "s3cret-lecture-key"
LECTURE = f"[stream lecture]\nurl=whip://\nkey={KEY}\n"


def state(gw, name="lecture"):
    s = gw.stream(name)
    return s and s["state"]


def hls_playlist(gw, name):
    status, _, body = gw.request("GET", f"/hls/{name}/index.m3u8")
    return body.decode() if status == 200 else None


def test_publish_watch_hls_and_delete(gateway_factory, caplog):
    gw = gateway_factory(streams={}, extra=LECTURE)
    assert state(gw) == "idle"

    async def run():
        pub = Publisher(gw.base, "lecture", KEY)
        assert await pub.connect() == 201, pub.answer
        try:
            assert pub.location.startswith("/whip/lecture/")
            a = pub.answer
            assert "a=ice-lite" in a and "a=setup:passive" in a and "a=recvonly" in a
            assert "H264/90000" in a and "packetization-mode=1" in a and "opus/48000" in a
            await asyncio.get_running_loop().run_in_executor(None, gw.wait_live, "lecture", 30)
            assert gw.stream("lecture")["publisher"] == pub.location.rsplit("/", 1)[1]
            v = Viewer(gw.base, "lecture", want_video=30, want_audio=10)
            assert await v.connect() == 201, v.answer
            try:
                assert await v.wait(40), \
                    f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
            finally:
                await v.close()
            assert v.size == (320, 240)
            # HLS of the same stream: H.264 as published, Opus transcoded to AAC.
            await asyncio.get_running_loop().run_in_executor(None, lambda: wait_for(
                lambda: (p := hls_playlist(gw, "lecture")) and playlist_segments(p), 60,
                what="an HLS segment of lecture"))
            streams = await asyncio.get_running_loop().run_in_executor(
                None, lambda: probe(gw.base + "/hls/lecture/index.m3u8", seconds=2))
            assert streams["video"]["codec_name"] == "h264"
            assert (streams["video"]["width"], streams["video"]["height"]) == (320, 240)
            assert int(streams["video"]["nb_read_frames"]) > 0
            assert streams["audio"]["codec_name"] == "aac"
            assert int(streams["audio"]["nb_read_frames"]) > 0
            # Keyframe requests (PLI) from hallcast reached the publisher.
            assert KEYFRAMES_FORCED[0] >= 1
            info = gw.stream("lecture")
            codecs = sorted(t["codec"] for t in info["tracks"])
            assert "H264" in codecs, info
            assert await pub.delete() == 204
        finally:
            await pub.close()

    asyncio.run(run())
    # The relayed packets decode: aiortc's decoder logged no failure.
    assert not [r.getMessage() for r in caplog.records if "failed to decode" in r.getMessage()]
    wait_for(lambda: state(gw) == "idle", 20, what="lecture idle after DELETE")
    assert gw.stream("lecture")["publisher"] is None


def test_bad_publish_requests(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=320&height=240&bitrate=300"},
                         extra=LECTURE)

    async def run():
        out = {}
        for label, kw in (("no key", {"key": None}), ("wrong key", {"key": "nope"}),
                          ("vp8 only", {"key": KEY, "video_codec": "video/VP8", "audio": False}),
                          ("unknown", {"key": KEY, "stream": "nosuch"}),
                          ("not whip", {"key": KEY, "stream": "demo"})):
            stream = kw.pop("stream", "lecture")
            p = Publisher(gw.base, stream, **kw)
            try:
                out[label] = (await p.connect(), p.answer)
            finally:
                await p.close()
        return out

    out = asyncio.run(run())
    assert out["no key"][0] == 401 and out["wrong key"][0] == 401
    assert '"unauthorized"' in out["wrong key"][1]
    assert out["vp8 only"][0] == 400 and "H.264" in out["vp8 only"][1], out["vp8 only"]
    assert out["unknown"][0] == 404 and out["not whip"][0] == 404
    status, _, body = gw.request("POST", "/whip/lecture", "v=0\r\n",
                                 {"Content-Type": "application/sdp",
                                  "Authorization": f"Bearer {KEY}"})
    assert status == 400, body
    assert state(gw) == "idle"
