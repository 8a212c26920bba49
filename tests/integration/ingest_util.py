"""Helpers for the ingest tests: a fake IP camera process (gst-rtsp-server),
publishers (ffmpeg), and HLS checks that decode the newest segment."""
import json
import pathlib
import signal
import subprocess
import sys
import time

from conftest import wait_for

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"  # Debian's, with python3-gi


class FakeCamera:
    """tests/integration/fake_camera.py in its own process on 127.0.0.1:port."""

    def __init__(self, port, **opts):
        self.port = port
        self.opts = opts
        self.proc = None

    def start(self, timeout=20):
        args = [PYTHON, str(HERE / "fake_camera.py"), "--port", str(self.port)]
        for k, v in self.opts.items():
            args += [f"--{k}"] if v is True else [f"--{k}", str(v)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.strip() == "READY" or not line:
                break
        assert line.strip() == "READY", f"fake camera did not start: {line!r}"
        return self

    def kill(self):
        """Kills the camera like a power cut: no RTSP teardown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def url(self, user=None, password=None, path="/cam"):
        auth = f"{user}:{password}@" if user else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{path}"


def ffmpeg_publisher(out_args, seconds=60, size="320x240", rate=15, audio=True, video=True):
    """ffmpeg sending a live test pattern (H.264 + AAC, or either alone) with
    out_args (format and URL)."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-re"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
                 "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", str(rate), "-b:v", "300k"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "64k"]
    return subprocess.Popen(args + out_args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def stop(proc):
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait(10)


def segments(gw, name):
    status, _, body = gw.request("GET", f"/hls/{name}/index.m3u8")
    if status != 200:
        return []
    return [line for line in body.decode().splitlines() if line and not line.startswith("#")]


def probe_segment(gw, name, segment):
    """Decodes one HLS segment fetched from the gateway with ffprobe; returns
    {codec_type: stream} with nb_read_frames counted by decoding."""
    url = f"{gw.base}/hls/{name}/{segment}"
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,width,height,sample_rate,nb_read_frames",
         "-of", "json", url], capture_output=True, text=True, timeout=60, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def wait_new_segment(gw, name, after=None, timeout=30):
    """Waits for a segment that was not in the list `after`; returns its name."""
    known = set(after or [])
    # The newest segment may still be written: take the one before it.
    return wait_for(lambda: (segs := [s for s in segments(gw, name) if s not in known])
                    and len(segs) >= 2 and segs[-2], timeout, what=f"a new HLS segment of {name}")


def wait_state(gw, name, state, timeout=30):
    return wait_for(lambda: (s := gw.stream(name)) and s["state"] == state and s, timeout,
                    what=f"stream {name} {state}")


def track(stream, kind):
    return next((t for t in stream["tracks"] if t["kind"] == kind), None)


def log(msg):
    print(msg, file=sys.stderr)


async def poll(cond, timeout, what):
    """Like wait_for, for asyncio tests: cond runs in a thread (it may block)."""
    import asyncio
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(cond)
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def whep_decodes(gw, name, frames=30, audio=True):
    """An aiortc viewer (whep_aiortc.py) watches name over WHEP and decodes
    frames video frames (and some audio); returns the decoded size."""
    import asyncio
    from whep_aiortc import Viewer

    async def run():
        v = Viewer(gw.base, name, want_video=frames, want_audio=10 if audio else 0)
        status = await v.connect(audio=audio)
        assert status == 201, v.answer
        try:
            assert await v.wait(30), f"decoded {v.video_frames} video, {v.audio_frames} audio"
            return v.size
        finally:
            await v.close()

    return asyncio.run(run())
