"""WHIP over a lossy path: a UDP relay on loopback between the aiortc
publisher and hallcast drops some of the publisher's video RTP packets once
each. hallcast NACKs them, aiortc retransmits, and the WebRTC viewer of the
stream decodes every frame cleanly (the packets reach the ring in order)."""
import asyncio
import re

from aiortc import RTCRtpSender

from whep_aiortc import Viewer
from whip_aiortc import Publisher, http

KEY = "lossy-key"
LECTURE = f"[stream lecture]\nurl=whip://\nkey={KEY}\n"
RETRANSMITS = [0]
_retransmit = RTCRtpSender._retransmit


async def _counting_retransmit(self, seq):
    RETRANSMITS[0] += 1
    await _retransmit(self, seq)


RTCRtpSender._retransmit = _counting_retransmit


class LossyRelay(asyncio.DatagramProtocol):
    """Forwards between the publisher and hallcast; drops one video RTP packet
    in 25 from the publisher, each sequence number at most once."""

    def __init__(self, gateway_addr, video_pt):
        self.gateway, self.pt = gateway_addr, video_pt
        self.peer, self.seen, self.dropped = None, 0, set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if addr == self.gateway:
            if self.peer:
                self.transport.sendto(data, self.peer)
            return
        self.peer = addr
        if len(data) >= 12 and 128 <= data[0] <= 191 and (data[1] & 0x7f) == self.pt:
            key = (data[8:12], data[2:4])
            self.seen += 1
            if self.seen % 25 == 0 and key not in self.dropped:
                self.dropped.add(key)
                return
        self.transport.sendto(data, self.gateway)


def test_lost_packets_are_nacked_and_recovered(gateway_factory, caplog):
    gw = gateway_factory(streams={}, extra=LECTURE)

    async def run():
        loop = asyncio.get_running_loop()
        pub = Publisher(gw.base, "lecture", KEY)
        relayed = {}

        async def through_relay(answer):
            port = int(re.search(r"127\.0\.0\.1 (\d+) typ host", answer).group(1))
            pt = int(re.search(r"a=rtpmap:(\d+) H264/90000", answer).group(1))
            relayed["transport"], relayed["relay"] = await loop.create_datagram_endpoint(
                lambda: LossyRelay(("127.0.0.1", port), pt), local_addr=("127.0.0.1", 0))
            rport = relayed["transport"].get_extra_info("sockname")[1]
            return re.sub(r"a=candidate:(\S+) 1 udp (\d+) \S+ \d+ typ host",
                          lambda m: f"a=candidate:{m.group(1)} 1 udp {m.group(2)} 127.0.0.1 "
                                    f"{rport} typ host", answer)

        assert await pub.connect(through_relay) == 201, pub.answer
        transport, relay = relayed["transport"], relayed["relay"]
        v = Viewer(gw.base, "lecture", want_video=90, want_audio=0)
        try:
            await loop.run_in_executor(None, gw.wait_live, "lecture", 30)
            assert await v.connect() == 201, v.answer
            assert await v.wait(60), f"decoded {v.video_frames} frames"
            return relay
        finally:
            await v.close()
            await loop.run_in_executor(None, lambda: http("DELETE", gw.base + pub.location))
            await pub.close()
            transport.close()

    relay = asyncio.run(run())
    print(f"relayed {relay.seen} video packets, dropped {len(relay.dropped)}, "
          f"retransmitted {RETRANSMITS[0]}")
    assert len(relay.dropped) >= 3, relay.seen
    assert RETRANSMITS[0] >= len(relay.dropped) - 1, (RETRANSMITS[0], len(relay.dropped))
    assert not [r.getMessage() for r in caplog.records if "failed to decode" in r.getMessage()]
