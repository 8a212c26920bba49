"""The fan-out's send path must not get slower unnoticed: tools/bench-callgrind
counts instructions per forwarded packet (valgrind's callgrind on
tools/fanout-harness: the real hc_worker_emit, ring read, RTP rewrite, SRTP
protect, batching; no sockets) and this test fails when a figure exceeds the
baseline recorded in tools/fanout-harness/baseline.json by more than 15%.
Instruction counts do not depend on how busy the machine is; after a
deliberate change to the hot path, rerun the command in baseline.json and
record the new figures there."""
import json
import os
import pathlib
import shutil
import subprocess

from conftest import BUILD, ROOT

BASELINE = ROOT / "tools" / "fanout-harness" / "baseline.json"
HARNESS = BUILD / "tools" / "fanout-harness" / "hc-fanout-harness"
TOLERANCE = 1.15


def test_instructions_per_forwarded_packet_within_15_percent_of_baseline():
    base = json.loads(BASELINE.read_text())
    assert shutil.which("valgrind"), "valgrind is missing (tools/debian-packages.txt, test group)"
    assert HARNESS.exists(), f"{HARNESS} is not built"
    r = subprocess.run(
        ["/usr/bin/python3", str(ROOT / "tools" / "bench-callgrind"), "--json",
         "--viewers", str(base["viewers"]), "--frames", str(base["frames"]),
         "--profiles", "7,1", "--sizes", "1200"],
        capture_output=True, text=True, timeout=240,
        env={**os.environ, "HC_BUILD_DIR": str(BUILD)})
    assert r.returncode == 0, r.stderr[-2000:]
    now = json.loads(r.stdout.strip().splitlines()[-1])
    checked = 0
    for key, expected in base["instructions_per_packet"].items():
        assert key in now, f"bench-callgrind gave no figure for {key}: {now}"
        assert now[key] > 0
        assert now[key] <= expected * TOLERANCE, (
            f"{key}: {now[key]} instructions per forwarded packet, baseline {expected} "
            f"(+{100 * (now[key] / expected - 1):.0f}%, limit +15%)")
        checked += 1
    assert checked >= 2
