"""A WHEP viewer built on aiortc (Debian's python3-aiortc), an independent
WebRTC implementation: POSTs a recvonly offer to /whep/NAME, completes ICE and
DTLS against hallcast and decodes what arrives. Used by tests/integration/test_whep*.py."""
import asyncio
import time
import urllib.error
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Viewer:
    """One aiortc peer watching a stream; counts decoded frames."""

    def __init__(self, base, stream, want_video=60, want_audio=20, headers=None):
        self.base = base
        self.extra_headers = headers or {}
        self.stream = stream
        self.want_video = want_video
        self.want_audio = want_audio
        self.pc = RTCPeerConnection()
        self.location = None
        self.video_frames = 0
        self.audio_frames = 0
        self.size = None
        self.first_frame_s = None
        self.started = None
        self.done = asyncio.Event()
        self.tasks = []

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames += 1
                    self.size = (frame.width, frame.height)
                    if self.first_frame_s is None:
                        self.first_frame_s = time.monotonic() - self.started
                else:
                    self.audio_frames += 1
                if self.video_frames >= self.want_video and self.audio_frames >= self.want_audio:
                    self.done.set()
        except MediaStreamError:
            pass

    async def connect(self, audio=True, video=True):
        """POSTs the offer; returns the HTTP status (201 when accepted)."""
        if video:
            self.pc.addTransceiver("video", direction="recvonly")
        if audio:
            self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.started = time.monotonic()
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(
            None, lambda: http("POST", f"{self.base}/whep/{self.stream}",
                               self.pc.localDescription.sdp.encode(),
                               {"Content-Type": "application/sdp", **self.extra_headers}))
        self.status = status
        self.headers = headers
        self.answer = body.decode(errors="replace")
        if status != 201:
            return status
        self.location = headers["Location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(self.answer, "answer"))
        return status

    async def wait(self, timeout):
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def delete(self):
        loop = asyncio.get_running_loop()
        return (await loop.run_in_executor(
            None, lambda: http("DELETE", self.base + self.location)))[0]

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


async def _watch_forever(base, stream):
    v = Viewer(base, stream, want_video=5, want_audio=0)
    if await v.connect() != 201:
        print("refused", v.status, flush=True)
        return
    if await v.wait(20):
        print("decoding", flush=True)
    await asyncio.sleep(3600)


def _signed32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


async def fast_start_figures(base, stream, seconds=3.0):
    """What a player sees of fast start, from one aiortc viewer (milliseconds):
    first_frame: offer sent -> first decoded video frame;
    burst_frames, burst_media: video frames that came in the first 20 ms (the
    cached GOP, sent at once, and at most one live frame) and the media time
    (RTP timestamps) they span;
    anchor_lag: how far behind arrival a player that anchors its clock on the
    first frame would play the live frames (median, after 1 s);
    first_video_minus_audio: capture time (RTP time through the sender
    reports) of the first video packet minus that of the first audio one;
    sr_av_skew: arrival minus capture time of live video packets minus the
    same for audio (0 when the sender reports let a player lip-sync);
    sr_delay_video, sr_delay_audio: each of those two (median) on its own:
    the reports' clock must be the wall clock, give or take the pipeline's
    latency (hours off, a 32-bit RTP clock wraps its half range)."""
    from aiortc.rtcrtpreceiver import RTCRtpReceiver
    from aiortc.rtp import RtcpSrPacket

    rtp, srs = [], {}
    orig_rtp, orig_rtcp = RTCRtpReceiver._handle_rtp_packet, RTCRtpReceiver._handle_rtcp_packet

    async def on_rtp(self, packet, arrival_time_ms):
        if self.track:
            rtp.append((time.monotonic(), time.time(), self.track.kind, packet.timestamp))
        return await orig_rtp(self, packet, arrival_time_ms)

    async def on_rtcp(self, packet):
        if isinstance(packet, RtcpSrPacket) and self.track:
            ntp = packet.sender_info.ntp_timestamp
            unix = (ntp >> 32) - 2208988800 + (ntp & 0xFFFFFFFF) / 2**32
            srs[self.track.kind] = (packet.sender_info.rtp_timestamp, unix)
        return await orig_rtcp(self, packet)

    RTCRtpReceiver._handle_rtp_packet, RTCRtpReceiver._handle_rtcp_packet = on_rtp, on_rtcp
    try:
        v = Viewer(base, stream, want_video=10**9, want_audio=10**9)
        if await v.connect() != 201:
            raise RuntimeError(f"WHEP answered {v.status}: {v.answer}")
        await asyncio.sleep(seconds)
        await v.close()
    finally:
        RTCRtpReceiver._handle_rtp_packet, RTCRtpReceiver._handle_rtcp_packet = orig_rtp, orig_rtcp
    clocks = {"video": 90000, "audio": 48000}

    def capture(kind, ts):
        sr_ts, sr_unix = srs[kind]
        return sr_unix + _signed32(ts - sr_ts) / clocks[kind]

    def median(values):
        values = sorted(values)
        return values[len(values) // 2]

    video = [p for p in rtp if p[2] == "video"]
    audio = [p for p in rtp if p[2] == "audio"]
    if not video or not audio or set(srs) != set(clocks):
        raise RuntimeError(f"in {seconds} s: {len(video)} video, {len(audio)} audio packets, "
                           f"sender reports for {sorted(srs)}")
    t0, _, _, ts0 = video[0]
    burst = sorted({p[3] for p in video if p[0] - t0 < 0.02}, key=lambda ts: _signed32(ts - ts0))
    live = {kind: [p for p in rtp if p[2] == kind and p[0] - t0 > 1.0] for kind in clocks}
    delay = {kind: median([wall - capture(kind, ts) for _, wall, _, ts in live[kind]])
             for kind in clocks}
    return {
        "first_frame": v.first_frame_s * 1000,
        "burst_frames": len(burst),
        "burst_media": _signed32(burst[-1] - burst[0]) / 90,
        "anchor_lag": median([_signed32(p[3] - ts0) / 90 - (p[0] - t0) * 1000
                              for p in live["video"]]),
        "first_video_minus_audio": (capture("video", ts0) - capture("audio", audio[0][3])) * 1000,
        "sr_av_skew": (delay["video"] - delay["audio"]) * 1000,
        "sr_delay_video": delay["video"] * 1000,
        "sr_delay_audio": delay["audio"] * 1000,
    }


if __name__ == "__main__":
    # A viewer process for tests that kill it: prints "decoding" once frames come.
    import sys
    asyncio.run(_watch_forever(sys.argv[1], sys.argv[2]))
