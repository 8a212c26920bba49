"""hc-loadgen against a real WebRTC server: Janus 1.1.2's streaming plugin, fed
by a GStreamer RTP pipeline, all inside a private network namespace
(tools/netns-run). Viewers must connect (ICE, DTLS, SRTP), receive with zero
loss, and every sampled packet must decrypt. Correctness only: no timing."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT

LOADGEN = BUILD / "tools" / "loadgen" / "hc-loadgen"
NETNS_RUN = ROOT / "tools" / "netns-run"

# Runs inside the namespace: Janus + feed + loadgen, prints loadgen's output.
INNER = r"""
import subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import janus
workdir, loadgen = sys.argv[2], sys.argv[3]
j = janus.Janus(workdir).start()
feed = janus.start_feed([(j.video_port, j.audio_port)])
try:
    time.sleep(1.5)  # the mountpoint has seen a keyframe
    r = subprocess.run([loadgen, "--janus", "-u", j.url, "--bind", "198.18.0.1",
                        "-p", str(j.pid)] + sys.argv[4:],
                       capture_output=True, text=True, timeout=90)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
finally:
    feed.terminate()
    feed.wait(10)
    j.stop()
"""


def can_use_netns():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.fixture
def prerequisites():
    """tools/setup.sh test installs janus and builds hc-loadgen: a missing one
    is a broken set-up, and fails the test rather than skipping it."""
    assert shutil.which("janus"), "Debian's janus is missing: run tools/setup.sh test"
    assert can_use_netns(), "unshare -n needs root"
    assert LOADGEN.exists(), f"{LOADGEN} is not built"


needs = pytest.mark.usefixtures("prerequisites")


def run_in_netns(tmp_path, *args):
    script = tmp_path / "inner.py"
    script.write_text(INNER)
    r = subprocess.run(
        [str(NETNS_RUN), "/usr/bin/python3", str(script), str(ROOT / "tools" / "janus"),
         str(tmp_path / "janus"), str(LOADGEN), *args],
        capture_output=True, text=True, timeout=150)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    summary = [l for l in lines if l.get("summary")]
    assert summary, f"no summary (rc {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return summary[0], lines, r.stderr


@needs
def test_loadgen_janus_viewers_receive_and_decrypt(tmp_path):
    s, lines, err = run_in_netns(tmp_path, "-n", "5", "-r", "20", "-t", "3", "--max-time", "40")
    assert s["mode"] == "janus"
    assert s["connected"] == 5 and s["failed"] == 0 and s["signal_failed"] == 0, err[-2000:]
    assert s["receiving"] == 5
    assert s["pkts"] > 0 and s["expected"] > 0
    assert s["lost"] == 0, s
    # Small N: every packet is decrypted, and every one must authenticate.
    assert s["verify_every"] == 1
    assert s["verified"] == s["pkts"] and s["verify_failed"] == 0, s
    # A browser's first choice is what a DTLS server that supports it picks.
    assert s["srtp_gcm"] + s["srtp_aes_cm"] == 5
    # The per-second reports saw the gateway process.
    assert any(l.get("gw_rss_kb", 0) > 0 for l in lines if "t" in l)


@needs
def test_loadgen_janus_sampled_verification(tmp_path):
    """1 packet in K decrypted: the sample still all authenticates."""
    s, _, err = run_in_netns(tmp_path, "-n", "3", "-t", "2", "-k", "7", "--max-time", "40")
    assert s["connected"] == 3, err[-2000:]
    assert s["verify_every"] == 7
    assert s["verified"] >= s["pkts"] // 7 - 3 and s["verified"] > 0
    assert s["verify_failed"] == 0


def test_loadgen_refuses_remote_urls():
    """The generator only loads servers on this machine."""
    assert LOADGEN.exists(), f"{LOADGEN} is not built"
    r = subprocess.run([str(LOADGEN), "-u", "http://192.0.2.7:8080/whep/demo", "-n", "1",
                        "--max-time", "2"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "loopback" in r.stderr
