"""What a camera over RTSP/TCP costs in threads: its packets go from rtspsrc's
reader to the stream's tees in that one thread (no rtpjitterbuffer thread,
plugins/src-rtsp/rtp-stamp.c), and the idle WebRTC packetiser's queue is not
woken (media/rtp-gate.c gates the tee's pad). Lip sync through the sender
reports still holds for the camera's audio and video."""
import asyncio
import pathlib
import time

from conftest import free_port
from ingest_util import FakeCamera
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
