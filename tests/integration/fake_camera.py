#!/usr/bin/python3
"""A fake IP camera for the ingest tests: gst-rtsp-server (python3-gi +
gir1.2-gst-rtsp-server-1.0) serving a live test pattern on 127.0.0.1.

    fake_camera.py --port P [--path /cam] [--video h264|h265|mjpeg|none]
                   [--audio aac|pcma|pcmu|none] [--user U --password PW]
                   [--size 320x240] [--fps 15] [--kbps 300] [--gop FRAMES]
                   [--video-stops SECONDS]

Prints READY on stdout once it listens; runs until killed."""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

VIDEO = {
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={kbps} "
            "! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1",
    "h265": "x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={kbps} "
            "! rtph265pay name=pay0 pt=96 config-interval=1",
    "mjpeg": "video/x-raw,format=I420 ! jpegenc quality=50 ! rtpjpegpay name=pay0 pt=26",
}
AUDIO = {
    "aac": "audio/x-raw,rate=48000,channels=2 ! avenc_aac bitrate=64000 ! rtpmp4gpay name=pay1 pt=97",
    "pcma": "audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8",
    "pcmu": "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0",
}


def video_chain(a):
    chain = VIDEO[a.video].format(gop=a.gop or a.fps, kbps=a.kbps)
    if a.bframes and a.video == "h264":
        # zerolatency turns B-frames off; a camera's main profile has them.
        chain = chain.replace(
            "tune=zerolatency ",
            f"bframes={a.bframes} " + ('option-string="open-gop=1" ' if a.open_gop else ""),
        ).replace("profile=constrained-baseline", "profile=main")
    return chain


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--video", choices=sorted(VIDEO) + ["none"], default="h264")
    ap.add_argument("--audio", choices=sorted(AUDIO) + ["none"], default="aac")
    ap.add_argument("--pattern", default="ball")
    ap.add_argument("--size", default="320x240", help="WIDTHxHEIGHT")
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--kbps", type=int, default=300, help="H.264/H.265 bitrate")
    ap.add_argument("--gop", type=int, default=0, help="frames between keyframes (default: fps)")
    ap.add_argument("--video-stops", type=float, default=0,
                    help="seconds after which the video stops while audio goes on")
    ap.add_argument("--bframes", type=int, default=0,
                    help="H.264 B-frames between references (main profile; 0: baseline)")
    ap.add_argument("--open-gop", action="store_true",
                    help="with --bframes: open GOPs (B-frames before a keyframe in time)")
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()

    Gst.init(None)
    width, height = a.size.split("x")
    launch = "( "
    if a.video != "none":
        launch += (f"videotestsrc is-live=true pattern={a.pattern} "
                   f"! video/x-raw,width={width},height={height},framerate={a.fps}/1 ! videoconvert "
                   "! valve name=vvalve "
                   f"! {video_chain(a)} ")
    if a.audio != "none":
        # pay0 when it is the only track: rtsp-media numbers payloaders from 0.
        pay = AUDIO[a.audio].replace("pay1", "pay0") if a.video == "none" else AUDIO[a.audio]
        launch += f"audiotestsrc is-live=true wave=sine volume=0.2 ! audioconvert ! audioresample ! {pay} "
    launch += ")"

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    if a.video_stops:
        def stop_video(media):
            valve = media.get_element().get_by_name("vvalve")
            GLib.timeout_add(int(a.video_stops * 1000), lambda: valve.set_property("drop", True))
        factory.connect("media-configure", lambda _f, media: stop_video(media))
    if a.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password or ""), token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_role_from_structure(Gst.Structure.from_string(
            "camera-user, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true")[0])
        factory.set_permissions(perms)
    server.get_mount_points().add_factory(a.path, factory)
    if server.attach(None) == 0:
        print("cannot listen", file=sys.stderr)
        sys.exit(1)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
