"""Runs inside a private network namespace that test_whep_ipv6.py made with
`unshare -n` (loopback, plus a veth pair holding NETNS_ADDR, an IPv6 address
that exists only there): aiortc, whose ICE agent (aioice) gathers no
loopback candidates, so its only candidate is NETNS_ADDR, watches the real
daemon over WebRTC on IPv6 in two set-ups, and this prints one JSON line:
- "wildcard": the default dual-stack udp_address (::), HTTP on :: and the
  offer POSTed to [NETNS_ADDR] (so the answer's candidate is the address the
  request came in on);
- "bound": udp_address=NETNS_ADDR (the sockets' one address), HTTP on 127.0.0.1.
No packet leaves the namespace."""
import asyncio
import json
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import Gateway  # noqa: E402
from whep_aiortc import Viewer  # noqa: E402

NETNS_ADDR = sys.argv[1]
SMALL = "test://?width=320&height=240&bitrate=300"


async def watch(gw, base):
    v = Viewer(base, "demo", want_video=30, want_audio=10)
    status = await v.connect()
    ok = status == 201 and await v.wait(40)
    # While it still watches: the viewers list names its address.
    viewers = gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"]
    gathered = v.pc.localDescription.sdp if v.pc.localDescription else ""
    await v.close()
    return {"status": status, "answer": v.answer, "offer": gathered, "decoded": ok,
            "video": v.video_frames, "audio": v.audio_frames, "size": v.size,
            "viewers": viewers}


def run(name, gateway_keys, extra, host):
    with tempfile.TemporaryDirectory(prefix="hc-netns6-") as tmp:
        gw = Gateway(tmp, streams={"demo": SMALL}, extra=extra, gateway_keys=gateway_keys)
        gw.start()
        try:
            gw.wait_live("demo")
            out = asyncio.run(watch(gw, f"http://{host}:{gw.port}"))
        finally:
            out_status = gw.stop()
        out["gateway_exit"] = out_status
        out["dual_stack"] = "(IPv6 and IPv4)" in gw.log()
        out["log"] = gw.log()[-3000:]
        return name, out


def main():
    results = dict([
        run("wildcard", {"http_address": "::"}, "", f"[{NETNS_ADDR}]"),
        run("bound", None, f"[webrtc]\nudp_address={NETNS_ADDR}\n", "127.0.0.1"),
    ])
    print(json.dumps(results))


main()
