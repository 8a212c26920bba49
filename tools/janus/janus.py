"""Janus 1.1.2 (Debian's `janus`) as the benchmark's reference server, and the
GStreamer RTP feed both servers get. Renders the *.jcfg.in files beside this
module into a private folder, starts Janus on loopback ports, waits for its
HTTP API, and stops it. Used by tools/bench-webrtc and
tests/integration/test_loadgen_janus.py."""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
JANUS = shutil.which("janus") or "/usr/bin/janus"


def free_port(kind=socket.SOCK_DGRAM):
    """A port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_even_pair():
    """Two consecutive free UDP ports (RTP habit: even, then odd)."""
    for _ in range(50):
        p = free_port() & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                 socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", p))
                b.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no free UDP port pair on 127.0.0.1")


class Janus:
    """One Janus process with its own config folder, HTTP port and RTP ports."""

    def __init__(self, workdir, debug_level=3, rtp_range=None, ice_enforce="hcv0",
                 event_loops=None):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port(socket.SOCK_STREAM)
        self.video_port = free_even_pair()
        self.audio_port = free_even_pair()
        base = (free_port() % 20000) + 30000
        values = {
            "CONFIG_DIR": str(self.dir),
            "DEBUG_LEVEL": str(debug_level),
            "RTP_RANGE": rtp_range or f"{base}-{base + 9999}",
            "ICE_ENFORCE": ice_enforce,
            # 0: a thread per handle (Janus's default); N: N shared event loops.
            "EVENT_LOOPS": str(int(os.environ.get("HC_JANUS_EVENT_LOOPS", "0"))
                               if event_loops is None else event_loops),
            "HTTP_PORT": str(self.http_port),
            "VIDEO_PORT": str(self.video_port),
            "AUDIO_PORT": str(self.audio_port),
        }
        for template in HERE.glob("*.jcfg.in"):
            text = template.read_text()
            for k, v in values.items():
                text = text.replace(f"@{k}@", v)
            (self.dir / template.name[:-3]).write_text(text)
        self.log_path = self.dir / "janus.log"
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}/janus"

    def start(self, timeout=20, taskset=None):
        cmd = [JANUS, "-C", str(self.dir / "janus.jcfg"), "-F", str(self.dir)]
        if taskset is not None:
            cmd = ["taskset", "-c", str(taskset)] + cmd
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"janus exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/info", timeout=2) as r:
                    info = json.loads(r.read())
                    if "janus.plugin.streaming" in info.get("plugins", {}):
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"janus did not answer on {self.url}:\n{self.log()[-3000:]}")

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout=10):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def feed_pipeline(targets, kbps=600, width=1280, height=720, fps=30):
    """gst-launch arguments for one encoded feed: 720p H.264 constrained-baseline
    (RTP pt 96, 1200-byte MTU) and Opus (pt 111), sent to every (video_port,
    audio_port) pair in targets on 127.0.0.1. Encoded once, teed to all."""
    args = [
        "videotestsrc", "is-live=true", "pattern=ball", "!",
        f"video/x-raw,width={width},height={height},framerate={fps}/1", "!",
        "x264enc", "tune=zerolatency", "speed-preset=ultrafast", f"bitrate={kbps}",
        f"key-int-max={fps * 2}", "!", "video/x-h264,profile=constrained-baseline", "!",
        "rtph264pay", "pt=96", "mtu=1200", "config-interval=-1", "!", "tee", "name=vt",
        "audiotestsrc", "is-live=true", "wave=sine", "!", "audioconvert", "!", "audioresample",
        "!", "opusenc", "bitrate=64000", "!", "rtpopuspay", "pt=111", "!", "tee", "name=at",
    ]
    for video, audio in targets:
        args += ["vt.", "!", "queue", "!", "udpsink", "host=127.0.0.1", f"port={video}",
                 "sync=false", "async=false",
                 "at.", "!", "queue", "!", "udpsink", "host=127.0.0.1", f"port={audio}",
                 "sync=false", "async=false"]
    return args


def start_feed(targets, kbps=600, taskset=None, log=None):
    cmd = ["gst-launch-1.0", "-q"] + feed_pipeline(targets, kbps)
    if taskset is not None:
        cmd = ["taskset", "-c", str(taskset)] + cmd
    return subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL,
                            stderr=log or subprocess.DEVNULL, env={**os.environ})
