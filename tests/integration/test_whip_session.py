"""WHIP sessions that end without DELETE: a new publish with the right key
takes over from the live one (the WebRTC viewer keeps decoding across the
change), and a publisher that goes silent (killed: no DTLS close, no DELETE)
is dropped after [webrtc] idle_timeout, leaving the stream idle."""
import asyncio
import pathlib
import signal
import subprocess
import sys

from conftest import wait_for
from whep_aiortc import Viewer
from whip_aiortc import Publisher

HERE = pathlib.Path(__file__).resolve().parent
KEY = "take-over-key"
LECTURE = f"[stream lecture]\nurl=whip://\nkey={KEY}\n"


def state(gw, name="lecture"):
    s = gw.stream(name)
    return s and s["state"]


def test_new_publish_takes_over(gateway_factory):
    gw = gateway_factory(streams={}, extra=LECTURE)

    async def run():
        loop = asyncio.get_running_loop()
        first = Publisher(gw.base, "lecture", KEY)
        second = Publisher(gw.base, "lecture", KEY, size=(320, 240))
        v = Viewer(gw.base, "lecture", want_video=20, want_audio=5)
        try:
            assert await first.connect() == 201, first.answer
            await loop.run_in_executor(None, gw.wait_live, "lecture", 30)
            assert await v.connect() == 201, v.answer
            assert await v.wait(30), f"decoded {v.video_frames} frames from the first publisher"
            assert await second.connect() == 201, second.answer
            # The first session is over: its resource is gone (what it still
            # sends is dropped: its peer was removed from the worker).
            assert await first.delete() == 404
            # The viewer, still on the same connection, decodes the new publisher.
            before = v.video_frames
            v.want_video, v.want_audio = before + 30, 0
            v.done.clear()
            assert await v.wait(40), f"decoded {v.video_frames - before} frames after the takeover"
            await loop.run_in_executor(None, gw.wait_live, "lecture", 30)
            assert await second.delete() == 204
        finally:
            await v.close()
            await first.close()
            await second.close()

    asyncio.run(run())
    wait_for(lambda: state(gw) == "idle", 20, what="lecture idle after DELETE")


def test_silent_publisher_times_out(gateway_factory):
    gw = gateway_factory(streams={}, extra=LECTURE + "\n[webrtc]\nidle_timeout=5\n")
    proc = subprocess.Popen([sys.executable, str(HERE / "whip_aiortc.py"), gw.base, "lecture",
                             KEY], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "published"
        gw.wait_live("lecture", 30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: "removed (silent: no STUN consent or RTCP)" in gw.log(), 30,
                 what="the publisher's consent timeout")
        wait_for(lambda: state(gw) == "idle", 20, what="lecture idle")
        assert "publisher" in gw.log() and "ended" in gw.log()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_while_the_publishers_video_never_comes(gateway_factory, monkeypatch):
    """A publisher whose camera is blocked: it offers video and audio, sends
    audio only. HLS is attached to both tracks; the audio is held back until
    the video starts (whip-source.h), so HLS never waits on a video that does
    not come with audio piling up, and SIGTERM stops the gateway (exit 0)."""
    import whip_aiortc

    class Blocked(whip_aiortc.Pattern):
        async def recv(self):
            await asyncio.Event().wait()  # a camera that never delivers a frame

    monkeypatch.setattr(whip_aiortc, "Pattern", Blocked)
    gw = gateway_factory(streams={}, extra=LECTURE)

    async def run():
        loop = asyncio.get_running_loop()
        pub = Publisher(gw.base, "lecture", KEY)
        try:
            assert await pub.connect() == 201, pub.answer
            await loop.run_in_executor(None, lambda: wait_for(
                lambda: "(stream lecture): connected" in gw.log() and
                "stream lecture: HLS in" in gw.log(), 30, what="publisher connected, HLS on"))
            # Longer than HLS's queues hold (3 s): audio has been arriving all along.
            await asyncio.sleep(6)
            s = gw.stream("lecture")
            assert s["state"] != "live", s
            assert all(t["bitrate"] == 0 for t in s["tracks"]), s
            rc = await loop.run_in_executor(None, gw.stop)
            assert rc == 0, f"hallcast exited {rc} on SIGTERM:\n{gw.log()[-3000:]}"
        finally:
            await pub.pc.close()

    asyncio.run(run())
