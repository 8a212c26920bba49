"""A WHEP viewer built on GStreamer's webrtcbin (libnice ICE, GStreamer's
DTLS/SRTP), a second WebRTC implementation independent of hallcast and of
aiortc. Usage: whep_webrtcbin.py BASE STREAM FRAMES; prints "decoded W H
VIDEO AUDIO" and exits 0 once FRAMES video frames are decoded, 1 otherwise."""
import sys
import threading
import urllib.error
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

Gst.init(None)
base, stream, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
loop = GLib.MainLoop()
pipe = Gst.Pipeline.new("viewer")
webrtc = Gst.ElementFactory.make("webrtcbin")
webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
pipe.add(webrtc)
counts = {"video": 0, "audio": 0}
size = [0, 0]
result = {"ok": False, "error": None}
lock = threading.Lock()


def caps(s):
    return Gst.Caps.from_string(s)


webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
            caps("application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
                 "packetization-mode=(string)1,profile-level-id=(string)42e01f"))
webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
            caps("application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"))


def on_buffer(kind):
    def probe(pad, info):
        with lock:
            counts[kind] += 1
            if kind == "video" and not size[0]:
                s = pad.get_current_caps().get_structure(0)
                size[0], size[1] = s.get_value("width"), s.get_value("height")
            if counts["video"] >= want and counts["audio"] >= 10 and not result["ok"]:
                result["ok"] = True
                GLib.idle_add(loop.quit)
        return Gst.PadProbeReturn.OK
    return probe


def on_decoded(dbin, pad):
    name = pad.get_current_caps().get_structure(0).get_name()
    kind = "video" if name.startswith("video") else "audio"
    sink = Gst.ElementFactory.make("fakesink")
    sink.set_property("async", False)
    pipe.add(sink)
    sink.sync_state_with_parent()
    pad.link(sink.get_static_pad("sink"))
    pad.add_probe(Gst.PadProbeType.BUFFER, on_buffer(kind))


def on_pad(_, pad):
    if pad.direction != Gst.PadDirection.SRC:
        return
    dec = Gst.ElementFactory.make("decodebin")
    dec.connect("pad-added", on_decoded)
    pipe.add(dec)
    dec.sync_state_with_parent()
    pad.link(dec.get_static_pad("sink"))


def fail(msg):
    result["error"] = msg
    loop.quit()


def post_offer():
    sdp = webrtc.get_property("local-description").sdp.as_text()
    if "-v" in sys.argv:
        print(sdp, file=sys.stderr)
    req = urllib.request.Request(f"{base}/whep/{stream}", data=sdp.encode(), method="POST",
                                 headers={"Content-Type": "application/sdp"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = r.read().decode()
    except urllib.error.HTTPError as e:
        fail(f"POST failed: {e.code} {e.read().decode(errors='replace')}")
        return False
    except OSError as e:
        fail(f"POST failed: {e}")
        return False
    ok, msg = GstSdp.SDPMessage.new_from_text(answer)
    desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
    webrtc.emit("set-remote-description", desc, Gst.Promise.new())
    # webrtcbin 1.22 takes remote candidates only through add-ice-candidate.
    for line in answer.splitlines():
        if line.startswith("a=candidate:"):
            webrtc.emit("add-ice-candidate", 0, line[2:])
    return False


def on_gathering(*_):
    if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
        GLib.idle_add(post_offer)


def on_offer(promise):
    reply = promise.get_reply()
    offer = reply.get_value("offer")
    webrtc.emit("set-local-description", offer, Gst.Promise.new())


def on_negotiation(_):
    webrtc.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer))


webrtc.connect("on-negotiation-needed", on_negotiation)
webrtc.connect("notify::ice-gathering-state", on_gathering)
webrtc.connect("pad-added", on_pad)
bus = pipe.get_bus()
bus.add_signal_watch()
bus.connect("message::error", lambda b, m: fail(str(m.parse_error()[0])))
pipe.set_state(Gst.State.PLAYING)
GLib.timeout_add_seconds(40, lambda: fail("timed out") or False)
loop.run()
pipe.set_state(Gst.State.NULL)
print(f"decoded {size[0]} {size[1]} {counts['video']} {counts['audio']} {result['error'] or ''}",
      flush=True)
sys.exit(0 if result["ok"] else 1)
