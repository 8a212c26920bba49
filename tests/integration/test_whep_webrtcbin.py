"""A second independent WebRTC client: GStreamer's webrtcbin (libnice ICE,
its own DTLS-SRTP) watches the stream over WHEP and decodes video and audio.

libnice gathers no loopback candidates, so the test makes its own network
namespace (`unshare -n`) with loopback and a veth pair holding NETNS_ADDR,
an address that exists only inside it; the daemon offers that address as its
[webrtc] public_ip (the 1:1 NAT candidate). No packet leaves the namespace."""
import json
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
NETNS_ADDR = "10.254.0.1"
SETUP = (f"ip link set lo up && ip link add hc0 type veth peer name hc1 && "
         f"ip addr add {NETNS_ADDR}/24 dev hc0 && ip link set hc0 up && ip link set hc1 up && "
         f"exec /usr/bin/python3 {HERE / 'netns_webrtcbin.py'} {NETNS_ADDR}")


def test_webrtcbin_decodes_demo():
    r = subprocess.run(["unshare", "-n", "--", "sh", "-c", SETUP],
                       capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    last = out["stdout"].strip().splitlines()[-1] if out["stdout"].strip() else ""
    assert out["rc"] == 0, f"{last}\n{out['stderr']}\n{out['log']}"
    assert out["gateway_exit"] == 0, out["log"]
    _, width, height, video, audio = last.split()[:5]
    assert (int(width), int(height)) == (320, 240)
    assert int(video) >= 30 and int(audio) >= 10
    # webrtcbin was the only client: its viewer used the namespace's address
    # (the client may have left already, leaving no viewer).
    assert all(v["remote"] is None or v["remote"].startswith(NETNS_ADDR + ":")
               for v in out["viewers"])
