"""A WHIP publisher built on aiortc (Debian's python3-aiortc), an independent
WebRTC implementation: POSTs a sendonly offer (H.264 forced by codec
preferences, Opus) to /whip/NAME with a Bearer key, completes ICE and DTLS
against hallcast and sends a moving test picture and a tone. Used by
tests/integration/test_whip*.py."""
import asyncio
import fractions
import math

import av
import numpy
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.codecs import h264
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from whep_aiortc import http  # the one HTTP helper of the aiortc peers

# aiortc 1.4's H.264 encoder ignores force_keyframe, so a PLI would never give
# a keyframe (x264's default GOP is 250 frames). Browsers and OBS answer a
# PLI with one: starting the encoder again does that here (its first frame is
# an IDR with SPS and PPS). Counted, so tests see that PLIs reach the publisher.
_encode_frame = h264.H264Encoder._encode_frame
KEYFRAMES_FORCED = [0]


def _encode_frame_honouring_pli(self, frame, force_keyframe):
    if force_keyframe and self.codec is not None:
        KEYFRAMES_FORCED[0] += 1
        self.codec = None
        self.buffer_data, self.buffer_pts = b"", None
    return _encode_frame(self, frame, force_keyframe)


h264.H264Encoder._encode_frame = _encode_frame_honouring_pli


class Pattern(VideoStreamTrack):
    """A small moving picture: a bright bar sliding over a gradient."""

    def __init__(self, width=320, height=240):
        super().__init__()
        self.width, self.height = width, height
        self.base = numpy.zeros((height, width, 3), numpy.uint8)
        self.base[:, :, 0] = numpy.linspace(0, 255, width, dtype=numpy.uint8)
        self.base[:, :, 2] = numpy.linspace(255, 0, height, dtype=numpy.uint8)[:, None]
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = self.base.copy()
        x = (self.n * 4) % self.width
        img[:, x:x + 16, :] = 255
        self.n += 1
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """A 440 Hz tone, 20 ms frames of 48 kHz stereo."""

    RATE, SAMPLES = 48000, 960

    def __init__(self):
        super().__init__()
        self.t = 0

    async def recv(self):
        if not hasattr(self, "_start"):
            self._start = asyncio.get_running_loop().time()
        wait = self._start + self.t / self.RATE - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
        n = numpy.arange(self.t, self.t + self.SAMPLES)
        mono = (numpy.sin(2 * math.pi * 440 * n / self.RATE) * 6000).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(numpy.repeat(mono, 2).reshape(1, -1), format="s16",
                                           layout="stereo")
        frame.sample_rate = self.RATE
        frame.pts = self.t
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.t += self.SAMPLES
        return frame


class Publisher:
    """One aiortc peer publishing to a stream over WHIP."""

    def __init__(self, base, stream, key, video=True, audio=True, video_codec="video/H264",
                 size=(320, 240)):
        self.base, self.stream, self.key = base, stream, key
        self.video, self.audio, self.video_codec, self.size = video, audio, video_codec, size
        self.pc = RTCPeerConnection()
        self.location = None
        self.status = None
        self.answer = ""

    async def connect(self, answer_filter=None):
        """POSTs the offer; returns the HTTP status (201 when accepted).
        answer_filter(sdp) may change the answer before it is applied (a test
        that puts a relay between the peers rewrites the candidates)."""
        if self.video:
            t = self.pc.addTransceiver(Pattern(*self.size), direction="sendonly")
            caps = RTCRtpSender.getCapabilities("video").codecs
            t.setCodecPreferences([c for c in caps if c.mimeType == self.video_codec])
        if self.audio:
            self.pc.addTransceiver(Tone(), direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Content-Type": "application/sdp"}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        loop = asyncio.get_running_loop()
        self.status, hdrs, body = await loop.run_in_executor(
            None, lambda: http("POST", f"{self.base}/whip/{self.stream}",
                               self.pc.localDescription.sdp.encode(), headers))
        self.answer = body.decode(errors="replace")
        if self.status != 201:
            return self.status
        self.location = hdrs["Location"]
        answer = await answer_filter(self.answer) if answer_filter else self.answer
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        return self.status

    async def delete(self):
        loop = asyncio.get_running_loop()
        return (await loop.run_in_executor(
            None, lambda: http("DELETE", self.base + self.location,
                               headers={"Authorization": f"Bearer {self.key}"})))[0]

    async def close(self):
        await self.pc.close()


async def _publish_forever(base, stream, key):
    p = Publisher(base, stream, key)
    status = await p.connect()
    print("published" if status == 201 else f"refused {status}", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    # A publisher process for tests that kill it (no DELETE, no DTLS close).
    import sys
    asyncio.run(_publish_forever(sys.argv[1], sys.argv[2], sys.argv[3]))
