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

    def __init__(self, base, stream, want_video=60, want_audio=20):
        self.base = base
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
                               {"Content-Type": "application/sdp"}))
        self.status = status
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


if __name__ == "__main__":
    # A viewer process for tests that kill it: prints "decoding" once frames come.
    import sys
    asyncio.run(_watch_forever(sys.argv[1], sys.argv[2]))
