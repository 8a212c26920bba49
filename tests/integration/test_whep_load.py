"""Many viewers at once: 50 aiortc peers watch one small stream through the
fan-out workers, each decodes frames; DELETE of each frees it and the
viewers list goes back to zero. Bounded in count and time, loopback only."""
import asyncio

from conftest import wait_for
from whep_aiortc import Viewer

VIEWERS = 50


def test_fifty_viewers_decode_then_delete(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=320&height=240&fps=10&bitrate=300"},
                         extra="[webrtc]\nworkers=2\n", log_level="info")
    gw.wait_live("demo")

    async def run():
        viewers = [Viewer(gw.base, "demo", want_video=3, want_audio=0) for _ in range(VIEWERS)]
        try:
            statuses = await asyncio.gather(*(v.connect(audio=False) for v in viewers))
            assert statuses == [201] * VIEWERS, statuses
            done = await asyncio.gather(*(v.wait(90) for v in viewers))
            frames = [v.video_frames for v in viewers]
            assert all(done), f"frames per viewer: {frames}"
            loop = asyncio.get_running_loop()
            listed = await loop.run_in_executor(
                None, lambda: gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"])
            assert len(listed) == VIEWERS
            assert {v["state"] for v in listed} == {"connected"}
            # Both workers take viewers (least loaded first).
            assert {v["worker"] for v in listed} == {0, 1}
            deleted = await asyncio.gather(*(v.delete() for v in viewers))
            assert deleted == [204] * VIEWERS
            assert all(v.size == (320, 240) for v in viewers)
        finally:
            await asyncio.gather(*(v.close() for v in viewers))

    asyncio.run(run())
    wait_for(lambda: gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"] == [], 15,
             what="viewers list empty after DELETE")
    assert gw.stream("demo")["viewers"] == 0
