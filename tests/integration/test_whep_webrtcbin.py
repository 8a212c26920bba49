"""A second independent WebRTC client: GStreamer's webrtcbin (libnice ICE,
its own DTLS-SRTP) watches the stream over WHEP and decodes video and audio.
libnice does not send from a LAN address to a loopback candidate, so the
gateway offers this machine's LAN address as its [webrtc] public_ip, which
also covers the 1:1 NAT candidate."""
import pathlib
import socket
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def lan_address():
    """This machine's IPv4 address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))
        addr = s.getsockname()[0]
    assert not addr.startswith("127."), "the test needs a non-loopback IPv4 address"
    return addr


def test_webrtcbin_decodes_demo(gateway_factory):
    ip = lan_address()
    gw = gateway_factory(streams={"demo": "test://?width=320&height=240&bitrate=300"},
                         extra=f"[webrtc]\npublic_ip={ip}\n")
    gw.wait_live("demo")
    r = subprocess.run([sys.executable, str(HERE / "whep_webrtcbin.py"), gw.base, "demo", "30"],
                       capture_output=True, text=True, timeout=90)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    assert r.returncode == 0, f"{last}\n{r.stderr[-2000:]}\n{gw.log()[-3000:]}"
    _, width, height, video, audio = last.split()[:5]
    assert (int(width), int(height)) == (320, 240)
    assert int(video) >= 30 and int(audio) >= 10
    viewers = gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"]
    # The client process is gone; whatever is left is its viewer, selected on the LAN address.
    assert all(v["remote"] is None or v["remote"].startswith(ip + ":") for v in viewers)
