"""WHEP with a viewing key: a stream whose [stream NAME] view_key is set is
watched only with Authorization: Bearer KEY (401 with WWW-Authenticate and a
JSON error naming the field otherwise); a stream without one stays open; a
browser's CORS preflight lets the header through. Real aiortc peers."""
import asyncio
import json

from whep_aiortc import Viewer, http

SMALL = "test://?width=320&height=240&bitrate=300"
KEY = "k3y-with-Some-entropy_0123456789"


def locked_gateway(gateway_factory):
    gw = gateway_factory(streams={"open": SMALL},
                         extra=f"[stream locked]\nurl={SMALL}\nview_key={KEY}\n")
    gw.wait_live("locked")
    gw.wait_live("open")
    return gw


def watch(gw, stream, headers, want=10):
    async def run():
        v = Viewer(gw.base, stream, want_video=want, want_audio=5, headers=headers)
        status = await v.connect()
        ok = status == 201 and await v.wait(30)
        await v.close()
        return v, status, ok

    return asyncio.run(run())


def test_locked_stream_refuses_without_or_with_a_wrong_token(gateway_factory):
    gw = locked_gateway(gateway_factory)
    cases = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {KEY}x"},
             {"Authorization": f"Basic {KEY}"}, {"Authorization": "Bearer "}]
    for headers in cases:
        v, status, _ = watch(gw, "locked", headers)
        assert status == 401, (headers, status, v.answer)
        body = json.loads(v.answer)
        assert body["error"]["code"] == "unauthorized", body
        assert body["error"]["field"] == "authorization", body
        assert v.headers["WWW-Authenticate"] == "Bearer", dict(v.headers)
    _, listed = gw.json("GET", "/api/v1/streams/locked/viewers")
    assert listed["viewers"] == []
    assert KEY not in gw.log()


def test_locked_stream_plays_with_its_key(gateway_factory):
    gw = locked_gateway(gateway_factory)
    v, status, ok = watch(gw, "locked", {"Authorization": f"Bearer {KEY}"})
    assert status == 201, v.answer
    assert ok, f"decoded {v.video_frames} video, {v.audio_frames} audio frames"
    # The key of one stream opens no other door, and open streams stay open.
    v, status, ok = watch(gw, "open", {})
    assert status == 201 and ok, v.answer
    v, status, ok = watch(gw, "open", {"Authorization": "Bearer anything"})
    assert status == 201 and ok, v.answer


def test_cors_preflight_allows_authorization(gateway_factory):
    gw = locked_gateway(gateway_factory)
    status, headers, _ = http("OPTIONS", f"{gw.base}/whep/locked", headers={
        "Origin": "https://school.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert status == 204
    allowed = [h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")]
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    # The refusal itself is readable by the page (CORS headers on the 401).
    v, status, _ = watch(gw, "locked", {"Origin": "https://school.example"})
    assert status == 401 and v.headers["Access-Control-Allow-Origin"] == "*"
