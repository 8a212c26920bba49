"""WHEP playback with real, independent WebRTC peers (aiortc): the viewer
completes ICE (hallcast is ICE-lite) and DTLS, decodes video and audio; the
viewers API reports it; DELETE and the timeouts free it; bad offers get 400."""
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import pathlib

import pytest

from conftest import wait_for
from whep_aiortc import Viewer

HERE = pathlib.Path(__file__).resolve().parent
SMALL = "test://?width=320&height=240&bitrate=300"
log = logging.getLogger("test_whep")


def viewers(gw, name="demo"):
    status, body = gw.json("GET", f"/api/v1/streams/{name}/viewers")
    assert status == 200, body
    return body["viewers"]


def answered(gw, stream="demo"):
    """An aiortc viewer whose offer was accepted, closed at once."""
    async def run():
        v = Viewer(gw.base, stream)
        assert await v.connect() == 201, v.answer
        await v.close()
        return v

    return asyncio.run(run())


def test_aiortc_decodes_demo(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=640&height=360&bitrate=800"})
    info = gw.wait_live("demo")
    video = next(t for t in info["tracks"] if t["kind"] == "video")

    async def run():
        v = Viewer(gw.base, "demo", want_video=60, want_audio=25)
        assert await v.connect() == 201, v.answer
        try:
            assert await v.wait(30), f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
            return v
        finally:
            await v.close()

    v = asyncio.run(run())
    assert v.video_frames >= 60 and v.audio_frames >= 25
    assert v.size == (video["width"], video["height"])
    log.warning("aiortc: first decoded frame %.0f ms after the offer", v.first_frame_s * 1000)
    print(f"time to first decoded frame: {v.first_frame_s * 1000:.0f} ms")


def test_answer_is_ice_lite_passive_with_offered_payload_types(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")
    v = answered(gw)
    offer = v.pc.localDescription.sdp
    a = v.answer
    assert "a=ice-lite" in a and "a=setup:passive" in a and "a=group:BUNDLE 0 1" in a
    assert "a=fingerprint:sha-256 " in a and "typ host" in a
    # The H.264 payload type is one the offer gave H.264 with packetization-mode=1.
    h264 = [l.split()[0].split(":")[1] for l in a.splitlines() if "H264/90000" in l]
    assert h264 and f"a=rtpmap:{h264[0]} H264/90000" in offer
    assert f"a=fmtp:{h264[0]} " in a and "packetization-mode=1" in a
    assert "opus/48000/2" in a
    assert v.location.startswith("/whep/demo/")


def test_viewers_api_delete_frees_the_viewer(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")

    async def run():
        v = Viewer(gw.base, "demo", want_video=10, want_audio=5)
        assert await v.connect() == 201, v.answer
        assert await v.wait(20)
        # Sender reports go out every second; aiortc's receiver reports on
        # them give the round-trip time.
        for _ in range(40):
            listed = await asyncio.get_running_loop().run_in_executor(None, viewers, gw)
            if listed and listed[0]["rtt_ms"] is not None:
                break
            await asyncio.sleep(0.25)
        status = await v.delete()
        again = await v.delete()
        await v.close()
        return v, listed, status, again

    v, listed, status, again = asyncio.run(run())
    assert len(listed) == 1
    me = listed[0]
    assert v.location.endswith("/" + me["id"])
    assert me["state"] == "connected"
    assert me["srtp_profile"] == "AES128_CM_SHA1_80"  # the only one aiortc offers
    assert me["packets_sent"] > 10 and me["bytes_sent"] > 1000
    assert me["remote"].count(":") == 1
    assert me["rtt_ms"] is not None and 0 <= me["rtt_ms"] < 1000, me
    assert me["lost"] == 0 and me["jitter_ms"] >= 0
    latency = gw.json("GET", "/api/v1/streams/demo/viewers")[1]["send_latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["p999"] <= 50.1, latency
    assert status == 204 and again == 404
    wait_for(lambda: viewers(gw) == [], 10, what="no viewers after DELETE")
    assert gw.stream("demo")["viewers"] == 0
    assert "removed (deleted)" in gw.log()


def offer_text():
    async def run():
        from aiortc import RTCPeerConnection
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp
    return asyncio.run(run())


def drop_lines(sdp, pred):
    return "\r\n".join(l for l in sdp.splitlines() if not pred(l)) + "\r\n"


def test_bad_offers_get_400_and_unknown_stream_404(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")
    good = offer_text()
    h = {"Content-Type": "application/sdp"}

    def post(body, name="demo", headers=h):
        status, _, data = gw.request("POST", f"/whep/{name}", body, headers)
        return status, (json.loads(data)["error"] if status >= 400 else data.decode())

    status, err = post(good, name="nosuch")
    assert status == 404 and err["code"] == "not_found"
    cases = {
        "not SDP": ("hello", "not valid SDP"),
        "no bundle": (drop_lines(good, lambda l: l.startswith("a=group:")), "no bundle"),
        "no fingerprint": (drop_lines(good, lambda l: l.startswith("a=fingerprint")),
                           "no DTLS fingerprint"),
        "no h264": (drop_lines(good, lambda l: "H264" in l or "apt=99" in l or "apt=101" in l
                               or l.startswith("a=fmtp:99") or l.startswith("a=fmtp:101")),
                    "no H.264"),
        "no opus": (drop_lines(good, lambda l: "opus" in l), "no Opus"),
    }
    for what, (body, reason) in cases.items():
        status, err = post(body)
        assert status == 400, (what, status, err)
        assert reason in err["message"], (what, err)
        assert err["field"] == "sdp"
    status, err = post(good, headers={"Content-Type": "text/plain"})
    assert status == 400 and err["field"] == "content-type"
    assert viewers(gw) == []
    # Still serving after all that.
    assert post(good)[0] == 201


def test_cors_preflight_exposes_location(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    status, headers, _ = gw.request("OPTIONS", "/whep/demo", headers={
        "Origin": "http://school.example", "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Location" in headers["Access-Control-Expose-Headers"]


def test_viewer_without_ice_or_gone_silent_is_reaped(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL},
                         extra="[webrtc]\nhandshake_timeout=2\nidle_timeout=5\n")
    gw.wait_live("demo")
    # 1: an offer whose peer never does ICE.
    status, _, _ = gw.request("POST", "/whep/demo", offer_text(),
                              {"Content-Type": "application/sdp"})
    assert status == 201
    assert len(viewers(gw)) == 1
    wait_for(lambda: viewers(gw) == [], 15, what="viewer without ICE reaped")
    assert "no ICE in time" in gw.log()
    # 2: a connected viewer killed without DELETE (no DTLS close either).
    child = subprocess.Popen([sys.executable, str(HERE / "whep_aiortc.py"), gw.base, "demo"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "decoding", gw.log()[-3000:]
        assert [v["state"] for v in viewers(gw)] == ["connected"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    wait_for(lambda: viewers(gw) == [], 20, what="silent viewer reaped")
    assert "silent: no STUN consent or RTCP" in gw.log()


def test_removing_the_stream_drops_its_viewers(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL, "other": SMALL})
    gw.wait_live("demo")
    gw.wait_live("other")

    async def run():
        a = Viewer(gw.base, "demo", want_video=5, want_audio=0)
        b = Viewer(gw.base, "other", want_video=5, want_audio=0)
        assert await a.connect() == 201 and await b.connect() == 201
        assert await a.wait(20) and await b.wait(20)
        loop = asyncio.get_running_loop()
        status = (await loop.run_in_executor(
            None, lambda: gw.request("DELETE", "/api/v1/streams/demo")))[0]
        assert status == 204
        await loop.run_in_executor(None, lambda: wait_for(
            lambda: "the stream was removed" in gw.log(), 10, what="viewer of demo dropped"))
        # The other stream's viewer is untouched and still receives.
        before = b.video_frames
        await asyncio.sleep(1)
        others = await loop.run_in_executor(None, viewers, gw, "other")
        await a.close()
        await b.close()
        return before, b.video_frames, others

    before, after, others = asyncio.run(run())
    assert after > before
    assert [v["state"] for v in others] == ["connected"]


def test_nack_is_answered_and_pli_asks_for_a_keyframe(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")

    async def run():
        v = Viewer(gw.base, "demo", want_video=10, want_audio=0)
        assert await v.connect(audio=False) == 201
        try:
            assert await v.wait(20)
            receiver = next(t.receiver for t in v.pc.getTransceivers() if t.kind == "video")
            streams = receiver._RTCRtpReceiver__remote_streams  # aiortc's own statistics
            ssrc, stats = next(iter(streams.items()))
            while stats.max_seq < 3:  # aiortc packs NACKs without sequence wrap
                await asyncio.sleep(0.05)
            # Ask again for three packets it already has: the gateway resends from its ring.
            await receiver._send_rtcp_nack(ssrc, [(stats.max_seq - k) % 65536 for k in (3, 2, 1)])
            await receiver._send_rtcp_pli(ssrc)
            loop = asyncio.get_running_loop()
            for _ in range(40):
                me = (await loop.run_in_executor(None, viewers, gw))[0]
                if me["retransmits"] >= 3 and me["plis"] >= 1:
                    break
                await asyncio.sleep(0.25)
            return me
        finally:
            await v.close()

    me = asyncio.run(run())
    assert me["nacks"] >= 3 and me["retransmits"] >= 3, me
    assert me["plis"] >= 1, me
    assert "keyframe requested" in gw.log()


def test_gateway_full_gets_503(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL}, extra="[webrtc]\nmax_viewers=1\n")
    gw.wait_live("demo")
    offer = offer_text()
    h = {"Content-Type": "application/sdp"}
    first = gw.request("POST", "/whep/demo", offer, h)
    assert first[0] == 201
    status, headers, body = gw.request("POST", "/whep/demo", offer, h)
    assert status == 503 and headers["Retry-After"]
    assert json.loads(body)["error"]["code"] == "limit_reached"
    # Trickled candidates are accepted (and not needed) for a viewer that exists.
    frag = {"Content-Type": "application/trickle-ice-sdpfrag"}
    assert gw.request("PATCH", first[1]["Location"], "a=end-of-candidates\r\n", frag)[0] == 204
    other = "/whep/demo/" + "0" * 32
    assert gw.request("PATCH", other, "a=end-of-candidates\r\n", frag)[0] == 404
    # Leaving makes room again.
    assert gw.request("DELETE", first[1]["Location"])[0] == 204
    assert gw.request("POST", "/whep/demo", offer, h)[0] == 201


def test_stream_without_audio_answers_the_audio_mline_inactive(gateway_factory):
    gw = gateway_factory(streams={"cam": SMALL + "&audio=false"})
    gw.wait_live("cam")

    async def run():
        v = Viewer(gw.base, "cam", want_video=10, want_audio=0)
        assert await v.connect() == 201, v.answer  # it asks for audio too
        try:
            return v, await v.wait(20)
        finally:
            await v.close()

    v, ok = asyncio.run(run())
    mlines = [l for l in v.answer.splitlines() if l.startswith("m=")]
    assert mlines[0].startswith("m=video ") and not mlines[0].startswith("m=video 0 ")
    # Accepted but inactive (not port 0): a peer whose bundle tag it is keeps
    # its transport; nothing is sent on it.
    assert mlines[1].startswith("m=audio ") and not mlines[1].startswith("m=audio 0 ")
    audio = v.answer.split("m=audio", 1)[1]
    assert "a=inactive" in audio and "a=ssrc:" not in audio, audio
    assert "a=group:BUNDLE 0 1\r" in v.answer + "\r"
    assert ok and v.video_frames >= 10 and v.audio_frames == 0


def candidates(answer):
    return sorted({l.split()[4] for l in answer.splitlines() if l.startswith("a=candidate:")})


def test_specific_udp_address_is_the_only_host_candidate(gateway_factory):
    # HTTP listens on 127.0.0.1, the fan-out sockets on 127.0.0.2 alone: a
    # candidate naming the HTTP address would lead nowhere.
    gw = gateway_factory(streams={"demo": SMALL}, extra="[webrtc]\nudp_address=127.0.0.2\n")
    gw.wait_live("demo")

    async def run():
        v = Viewer(gw.base, "demo", want_video=10, want_audio=5)
        assert await v.connect() == 201, v.answer
        try:
            ok = await v.wait(30)
            return v, ok
        finally:
            await v.close()

    v, ok = asyncio.run(run())
    assert candidates(v.answer) == ["127.0.0.2"], v.answer
    assert ok, f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
    assert "127.0.0.2" in gw.log()


def test_public_ip_comes_first_then_the_bound_address(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL},
                         extra="[webrtc]\nudp_address=127.0.0.2\npublic_ip=192.0.2.7\n")
    gw.wait_live("demo")
    v = answered(gw)
    lines = [l.split()[4] for l in v.answer.splitlines() if l.startswith("a=candidate:")]
    assert lines[:2] == ["192.0.2.7", "127.0.0.2"] and len(set(lines)) == 2, v.answer


def test_wildcard_bind_offers_loopback(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL}, extra="[webrtc]\nudp_address=0.0.0.0\n")
    gw.wait_live("demo")

    assert candidates(answered(gw).answer) == ["127.0.0.1"]


def test_default_wildcard_bind_offers_loopback_of_both_families(gateway_factory):
    # The default udp_address "::" is dual-stack: IPv4 and IPv6 loopback.
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")

    answer = answered(gw).answer
    assert candidates(answer) == ["127.0.0.1", "::1"], answer
    assert "c=IN IP4 127.0.0.1" in answer  # the first candidate's family
    assert "(IPv6 and IPv4)" in gw.log()


def test_signalling_over_ipv6_loopback(gateway_factory):
    # HTTP on the wildcard "::" takes IPv6 and IPv4; the offer comes over
    # [::1] (loopback: not a candidate of its own). The fan-out sockets are
    # dual-stack, so the candidates are loopback of both families.
    gw = gateway_factory(streams={"demo": SMALL}, gateway_keys={"http_address": "::"})
    gw.wait_live("demo")

    async def run():
        v = Viewer(f"http://[::1]:{gw.port}", "demo", want_video=10, want_audio=5)
        assert await v.connect() == 201, v.answer
        try:
            return v, await v.wait(30)
        finally:
            await v.close()

    v, ok = asyncio.run(run())
    assert candidates(v.answer) == ["127.0.0.1", "::1"], v.answer
    assert ok, f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
    assert f"listening for HTTP on :::{gw.port}" in gw.log()


def test_ipv6_public_ip_and_bound_address_are_the_candidates(gateway_factory):
    # Both of either family: the answer's c= and o= follow the first (IP6).
    gw = gateway_factory(streams={"demo": SMALL},
                         extra="[webrtc]\nudp_address=::1\npublic_ip=2001:db8::7\n")
    gw.wait_live("demo")
    answer = answered(gw).answer
    lines = list(dict.fromkeys(l.split()[4] for l in answer.splitlines()
                               if l.startswith("a=candidate:")))
    assert lines == ["2001:db8::7", "::1"], answer
    assert "c=IN IP6 2001:db8::7" in answer and "IN IP6 2001:db8::7\r\ns=" in answer, answer
    assert "UDP ::1 ports" in gw.log() and "(IPv6)" in gw.log()


@pytest.mark.parametrize("key, value, message", [
    ("udp_address", "banana", "[webrtc] udp_address: expected an IPv4 or IPv6 address, got 'banana'"),
    ("public_ip", "2001:db8::zz",
     "[webrtc] public_ip: expected an IPv4 or IPv6 address or nothing, got '2001:db8::zz'"),
])
def test_bad_webrtc_address_stops_the_start_naming_the_key(tmp_path, key, value, message):
    from conftest import Gateway
    gw = Gateway(tmp_path, streams={"demo": SMALL}, extra=f"[webrtc]\n{key}={value}\n")
    with pytest.raises(AssertionError, match="hallcast exited with"):
        gw.start(timeout=10)
    assert gw.proc.returncode != 0
    assert message in gw.log()
