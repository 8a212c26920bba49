#!/usr/bin/python3
"""The WebRTC benchmark's one input: a GStreamer encode of scrolling colour
bars, detailed and moving enough that the encoder spends the whole bit rate
yet cheap to encode (720p H.264 constrained-baseline at
--kbps, plus Opus), served over RTSP for hallcast
(rtsp://127.0.0.1:PORT/feed, one shared media) and teed, the same packets
payloaded the same way, as RTP to Janus's mountpoint ports on 127.0.0.1.
Encoded once, so both servers get the same input. Stops by itself after
--max-seconds. Prints "ready" when it serves. Used by tools/bench-webrtc."""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch(kbps, janus_video, janus_audio, fps=30):
    video = (f"videotestsrc is-live=true pattern=smpte horizontal-speed=8 ! "
             f"video/x-raw,width=1280,height=720,framerate={fps}/1 ! "
             f"x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} "
             f"key-int-max={fps * 2} ! video/x-h264,profile=constrained-baseline ! tee name=vt "
             f"vt. ! queue ! rtph264pay name=pay0 pt=96 mtu=1200 config-interval=-1 ")
    audio = ("audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! "
             "opusenc bitrate=64000 ! tee name=at "
             "at. ! queue ! rtpopuspay name=pay1 pt=111 ")
    if janus_video:
        video += (f"vt. ! queue ! rtph264pay pt=96 mtu=1200 config-interval=-1 ! "
                  f"udpsink host=127.0.0.1 port={janus_video} sync=false async=false ")
        audio += (f"at. ! queue ! rtpopuspay pt=111 ! "
                  f"udpsink host=127.0.0.1 port={janus_audio} sync=false async=false ")
    return f"( {video} {audio} )"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kbps", type=int, default=600)
    ap.add_argument("--janus-video", type=int, default=0)
    ap.add_argument("--janus-audio", type=int, default=0)
    ap.add_argument("--max-seconds", type=int, default=1800)
    args = ap.parse_args()
    Gst.init(None)
    loop = GLib.MainLoop()
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch(args.kbps, args.janus_video, args.janus_audio))
    factory.set_shared(True)
    server.get_mount_points().add_factory("/feed", factory)
    if server.attach(None) == 0:
        sys.exit("bench_feed: cannot serve RTSP")
    GLib.timeout_add_seconds(min(args.max_seconds, 7200), loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
