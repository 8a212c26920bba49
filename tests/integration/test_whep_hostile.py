"""Hostile datagrams on a fan-out worker's UDP port: garbage, STUN with a bad
MESSAGE-INTEGRITY or an unknown ICE ufrag, DTLS and RTCP from an address ICE
never selected. Each is dropped (no answer) and counted, and the gateway keeps
serving. A correct binding request, built here with Python's own HMAC-SHA1
and CRC-32, gets a correct answer."""
import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import zlib

from conftest import wait_for
from whep_aiortc import Viewer
from test_whep import SMALL, offer_text

MAGIC = 0x2112A442


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def binding_request(username, key, txid):
    body = attr(0x0006, username.encode()) + attr(0x0024, struct.pack("!I", 1853824767)) \
        + attr(0x802A, os.urandom(8))
    # MESSAGE-INTEGRITY over the message with the length covering it (RFC 5389 15.4).
    hdr = struct.pack("!HHI", 0x0001, len(body) + 24, MAGIC) + txid
    mac = hmac.new(key.encode(), hdr + body, hashlib.sha1).digest()
    body += attr(0x0008, mac)
    hdr = struct.pack("!HHI", 0x0001, len(body) + 8, MAGIC) + txid
    crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", 0x0001, len(body), MAGIC) + txid + body


def check_response(data, key, txid, sock):
    kind, length, magic = struct.unpack("!HHI", data[:8])
    assert kind == 0x0101 and magic == MAGIC and data[8:20] == txid and 20 + length == len(data)
    attrs, off = {}, 20
    while off < len(data):
        t, n = struct.unpack("!HH", data[off:off + 4])
        attrs[t] = (off, data[off + 4:off + 4 + n])
        off += 4 + n + (4 - n % 4) % 4
    # XOR-MAPPED-ADDRESS is our own address.
    _, xma = attrs[0x0020]
    port = struct.unpack("!H", xma[2:4])[0] ^ (MAGIC >> 16)
    ip = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", xma[4:8])[0] ^ MAGIC))
    assert (ip, port) == sock.getsockname()
    mi_off, mac = attrs[0x0008]
    hdr = data[:2] + struct.pack("!H", mi_off + 24 - 20) + data[4:20]
    assert hmac.new(key.encode(), hdr + data[20:mi_off], hashlib.sha1).digest() == mac
    fp_off, fp = attrs[0x8028]
    hdr = data[:2] + struct.pack("!H", fp_off + 8 - 20) + data[4:20]
    assert (zlib.crc32(hdr + data[20:fp_off]) ^ 0x5354554E) & 0xFFFFFFFF == \
        struct.unpack("!I", fp)[0]


def test_hostile_datagrams_are_dropped_and_counted(gateway_factory):
    gw = gateway_factory(streams={"demo": SMALL})
    gw.wait_live("demo")
    offer = offer_text()
    their_ufrag = re.search(r"a=ice-ufrag:(\S+)", offer).group(1)
    status, headers, body = gw.request("POST", "/whep/demo", offer,
                                       {"Content-Type": "application/sdp"})
    assert status == 201
    answer = body.decode()
    ufrag = re.search(r"a=ice-ufrag:(\S+)", answer).group(1)
    pwd = re.search(r"a=ice-pwd:(\S+)", answer).group(1)
    port = int(re.search(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host", answer).group(1))

    def dropped():
        return gw.json("GET", "/api/v1/streams/demo/viewers")[1]["dropped_datagrams"]

    before = dropped()
    hostile = [
        os.urandom(200),
        b"\x00\x01\x00\x00" + struct.pack("!I", MAGIC) + os.urandom(12) + b"\xff" * 8,  # bad length
        binding_request(f"{ufrag}:{their_ufrag}", "not-the-password-at-all", os.urandom(12)),
        binding_request(f"zzzzzzzz:{their_ufrag}", pwd, os.urandom(12)),  # unknown ufrag
        bytes([22, 0xFE, 0xFD]) + os.urandom(60),  # DTLS from an address ICE never chose
        bytes([0x81, 201, 0, 1]) + os.urandom(40),  # RTCP likewise
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        for d in hostile:
            s.sendto(d, ("127.0.0.1", port))
        try:
            data = s.recv(2048)
            raise AssertionError(f"the gateway answered a hostile datagram: {data!r}")
        except socket.timeout:
            pass
        wait_for(lambda: dropped() - before >= len(hostile), 5, what="hostile datagrams counted")
        # A correct check is answered, and authenticates with our own HMAC and CRC.
        txid = os.urandom(12)
        s.settimeout(5)
        s.sendto(binding_request(f"{ufrag}:{their_ufrag}", pwd, txid), ("127.0.0.1", port))
        check_response(s.recv(2048), pwd, txid, s)
    # The worker moves the viewer on after it answered: the API may see it a moment later.
    viewers = wait_for(lambda: (v := gw.json("GET", "/api/v1/streams/demo/viewers")[1]["viewers"])
                       and v[0]["state"] == "dtls" and v, 5, what="viewer in state dtls")
    assert viewers[0]["remote"].startswith("127.0.0.1:")

    async def watch():
        v = Viewer(gw.base, "demo", want_video=5, want_audio=0)
        assert await v.connect() == 201
        ok = await v.wait(20)
        await v.close()
        return ok

    assert asyncio.run(watch()), "a real viewer is still served"
    assert json.loads(gw.request("GET", "/healthz")[2])["status"] == "ok"
