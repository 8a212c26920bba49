"""Runs inside a private network namespace that test_whep_webrtcbin.py made
with `unshare -n` (loopback, plus a dummy interface holding NETNS_ADDR that
exists only there): starts the real daemon with that address as its
[webrtc] public_ip, lets GStreamer's webrtcbin watch it over WHEP, and prints
the client's result and the viewers list as JSON. libnice gathers no
loopback candidates, hence the dummy address; no packet leaves the namespace."""
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import Gateway  # noqa: E402

NETNS_ADDR = sys.argv[1]


def main():
    with tempfile.TemporaryDirectory(prefix="hc-netns-") as tmp:
        gw = Gateway(tmp, streams={"demo": "test://?width=320&height=240&bitrate=300"},
                     extra=f"[webrtc]\npublic_ip={NETNS_ADDR}\n")
        gw.start()
        try:
            gw.wait_live("demo")
            r = subprocess.run([sys.executable, str(HERE / "whep_webrtcbin.py"), gw.base, "demo",
                                "30"], capture_output=True, text=True, timeout=90)
            viewers = gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"]
        finally:
            status = gw.stop()
        print(json.dumps({"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr[-2000:],
                          "viewers": viewers, "gateway_exit": status, "log": gw.log()[-3000:]}))


main()
