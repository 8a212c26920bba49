"""What a camera over RTSP/TCP costs in threads: its packets go from rtspsrc's
reader to the stream's tees in that one thread (no rtpjitterbuffer thread,
plugins/src-rtsp/rtp-stamp.c), and the idle WebRTC packetiser's queue is not
woken (media/rtp-gate.c gates the tee's pad). Lip sync through the sender
reports still holds for the camera's audio and video."""
import asyncio
import json
import pathlib
import subprocess
import time

import pytest

from conftest import free_port
from ingest_util import FakeCamera, segments, wait_new_segment
from whep_aiortc import fast_start_figures


def threads(pid):
    """{thread name: context switches so far} (summed over threads of one name)."""
    out = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            status = (task / "status").read_text()
        except OSError:
            continue
        switches = sum(int(line.split()[1]) for line in status.splitlines()
                       if "ctxt_switches:" in line)
        out[comm] = out.get(comm, 0) + switches
    return out


def test_tcp_camera_has_no_jitter_buffer_thread_and_keeps_lip_sync(gateway_factory):
    cam = FakeCamera(free_port(), audio="aac").start()
    try:
        gw = gateway_factory(streams={"cam": cam.url()}, extra="[hls]\nenabled=false\n")
        gw.wait_live("cam")
        names = threads(gw.proc.pid)
        assert "rtpjitterbuffer" not in names, sorted(names)
        figures = asyncio.run(asyncio.wait_for(fast_start_figures(gw.base, "cam"), 60))
        assert abs(figures["sr_av_skew"]) < 1000, figures
        assert -1000 < figures["sr_delay_video"] < 2000, figures
        assert -1000 < figures["sr_delay_audio"] < 2000, figures
    finally:
        cam.kill()


def test_idle_packetiser_queue_is_not_woken(gateway_factory):
    """H.264 only, HLS off, no viewer: the one queue of the stream is the
    video packetiser's, which used to wake once a frame (25 a second) only to
    have the frame dropped by the gate after it."""
    cam = FakeCamera(free_port(), audio="none", fps=25).start()
    try:
        gw = gateway_factory(streams={"cam": cam.url()}, extra="[hls]\nenabled=false\n")
        gw.wait_live("cam")
        time.sleep(1)
        before = threads(gw.proc.pid)
        time.sleep(3)
        after = threads(gw.proc.pid)
        queues = {n: after[n] - before.get(n, 0) for n in after if n.startswith("queue")}
        assert queues, sorted(after)
        # 75 frames went by; a woken queue would count at least that many.
        assert all(n < 20 for n in queues.values()), queues
    finally:
        cam.kill()


@pytest.mark.parametrize("open_gop", [False, True], ids=["closed-gop", "open-gop"])
def test_tcp_camera_with_b_frames_keeps_even_timestamps(gateway_factory, open_gop):
    """A main-profile camera with B-frames: its RTP times go back and forth
    (presentation order) and its P-frames arrive ahead of their time, which
    the in-place stamping must follow without a new timeline or a step: an
    HLS segment's video decodes with one frame every 1/fps (a step of the
    skew turned the times of a GOP back: a keyframe 181 ms late)."""
    fps = 15
    opts = {"open-gop": True} if open_gop else {}
    # Video only: with audio, rtpbin's lip sync moves the times by steps of
    # its own (ts-offset, as with rtpjitterbuffer), not asserted here.
    cam = FakeCamera(free_port(), audio="none", fps=fps, gop=30, bframes=2, **opts).start()
    try:
        gw = gateway_factory(streams={"cam": cam.url()})
        gw.wait_live("cam")
        seg = wait_new_segment(gw, "cam")
        seg = wait_new_segment(gw, "cam", after=segments(gw, "cam")[:-1])
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time",
             "-of", "json", f"{gw.base}/hls/cam/{seg}"],
            capture_output=True, text=True, timeout=60, check=True)
        pts = sorted(float(f["pts_time"]) for f in json.loads(out.stdout)["frames"]
                     if "pts_time" in f)
        assert len(pts) >= fps, pts
        steps = [b - a for a, b in zip(pts, pts[1:])]
        assert all(abs(d - 1 / fps) < 0.01 for d in steps), steps
    finally:
        cam.kill()
