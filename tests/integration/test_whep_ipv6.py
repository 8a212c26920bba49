"""WebRTC playback over IPv6 with a real, independent peer (aiortc): the
dual-stack fan-out sockets answer its IPv6 checks (XOR-MAPPED-ADDRESS of
family IPv6), run DTLS and send SRTP with UDP GSO to an IPv6 address, and
the answer offers IPv6 candidates with `c=IN IP6`.

aioice gathers no loopback candidates, so the test makes its own network
namespace (`unshare -n`) with loopback and a veth pair holding NETNS_ADDR, a
unique-local IPv6 address that exists only inside it. No packet leaves the
namespace. netns_whep_ipv6.py runs inside it."""
import json
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
NETNS_ADDR = "fd5c:ca57::1"
SETUP = (f"ip link set lo up && ip link add hc0 type veth peer name hc1 && "
         f"ip -6 addr add {NETNS_ADDR}/64 dev hc0 nodad && ip link set hc0 up && "
         f"ip link set hc1 up && exec /usr/bin/python3 {HERE / 'netns_whep_ipv6.py'} {NETNS_ADDR}")


def candidates(sdp):
    """Candidate addresses in order, once each (every m-line repeats them)."""
    return list(dict.fromkeys(l.split()[4] for l in sdp.splitlines()
                              if l.startswith("a=candidate:")))


def test_aiortc_decodes_over_ipv6():
    r = subprocess.run(["unshare", "-n", "--", "sh", "-c", SETUP],
                       capture_output=True, text=True, timeout=200)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    want = {"wildcard": [NETNS_ADDR, "127.0.0.1", "::1"], "bound": [NETNS_ADDR]}
    for name, out in results.items():
        ctx = f"{name}: {out['answer']}\n{out['log']}"
        assert out["status"] == 201, ctx
        # aiortc's only candidate is the namespace's IPv6 address.
        offered = candidates(out["offer"])
        assert offered and all(c == NETNS_ADDR for c in offered), out["offer"]
        assert candidates(out["answer"]) == want[name], ctx
        assert f"c=IN IP6 {NETNS_ADDR}" in out["answer"], ctx
        assert out["decoded"], f"{name}: {out['video']} video, {out['audio']} audio frames\n{ctx}"
        assert out["video"] >= 30 and out["audio"] >= 10 and tuple(out["size"]) == (320, 240)
        # The viewer, listed while it watched, was reached over IPv6.
        assert [v["remote"].rsplit(":", 1)[0] for v in out["viewers"]] == [f"[{NETNS_ADDR}]"], \
            out["viewers"]
        assert out["viewers"][0]["state"] == "connected" and out["viewers"][0]["packets_sent"] > 0
        assert out["gateway_exit"] == 0, out["log"]
    assert results["wildcard"]["dual_stack"] and not results["bound"]["dual_stack"]
