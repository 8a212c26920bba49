"""The embedded test stream becomes a live HLS stream that real decoders play,
and streams added over the REST API get their own HLS, removed with them."""
import time

from conftest import wait_for
from hls_util import decode_errors, media_sequence, playlist_segments, probe


def playlist(gw, name):
    status, _, body = gw.request("GET", f"/hls/{name}/index.m3u8")
    return body.decode() if status == 200 else None


def wait_segments(gw, name, n, timeout=40):
    return wait_for(lambda: (p := playlist(gw, name)) and len(playlist_segments(p)) >= n and p,
                    timeout, what=f"{n} HLS segments of {name}")


def test_demo_hls_decodes_video_and_audio(gateway):
    wait_segments(gateway, "demo", 3)
    url = gateway.base + "/hls/demo/index.m3u8"
    streams = probe(url, seconds=4)
    video, audio = streams["video"], streams["audio"]
    assert video["codec_name"] == "h264"
    assert (video["width"], video["height"]) == (1280, 720)
    assert audio["codec_name"] == "aac"
    assert audio["sample_rate"] == "48000"
    # 3 s at 30 fps is 90 frames; AAC has 1024 samples a frame at 48 kHz.
    assert int(video["nb_read_frames"]) >= 90
    assert int(audio["nb_read_frames"]) >= 3 * 48000 // 1024
    assert decode_errors(url, seconds=3) == ""


def test_playlist_moves_forward(gateway):
    first = wait_segments(gateway, "demo", 2)
    last_before = playlist_segments(first)[-1]
    later = wait_for(lambda: (p := playlist(gateway, "demo")) and
                     playlist_segments(p)[-1] != last_before and p, 20,
                     what="a new segment")
    assert playlist_segments(later)[-1] > last_before  # numbered in order
    # Once the window of 6 is full, the media sequence moves with it.
    full = wait_for(lambda: (p := playlist(gateway, "demo")) and media_sequence(p) > 0 and p, 40,
                    what="the window to slide")
    assert len(playlist_segments(full)) == 6


def test_segments_and_playlist_headers(gateway):
    text = wait_segments(gateway, "demo", 1)
    status, headers, _ = gateway.request("GET", "/hls/demo/index.m3u8")
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Cache-Control"] == "no-cache"
    seg = playlist_segments(text)[0]
    status, headers, body = gateway.request("GET", f"/hls/demo/{seg}")
    assert status == 200
    assert headers["Content-Type"] == "video/mp2t"
    assert "max-age" in headers["Cache-Control"] and "public" in headers["Cache-Control"]
    assert body[0] == 0x47 and len(body) % 188 == 0  # MPEG-TS packets


def test_old_segments_are_deleted(gateway):
    text = wait_for(lambda: (p := playlist(gateway, "demo")) and media_sequence(p) >= 5 and p, 60,
                    what="the window to slide five times")
    folder = gateway.data_dir / "hls" / "demo"
    files = sorted(f.name for f in folder.glob("*.ts"))
    first = playlist_segments(text)[0]
    # Three segments older than the playlist are kept for clients that read an
    # older playlist, plus the one being written; older ones are deleted.
    assert first.rsplit("-", 1)[0] + "-00000.ts" not in files
    assert 6 <= len(files) <= 6 + 3 + 1
    assert all(gateway.request("GET", "/hls/demo/" + s)[0] == 200 for s in playlist_segments(text))


def test_api_stream_gets_its_own_hls_and_delete_removes_it(gateway_factory):
    gw = gateway_factory(streams={})
    url = "test://?pattern=snow&width=320&height=240&bitrate=300&fps=15"
    status, headers, _ = gw.request("POST", "/api/v1/streams", {"name": "hall2", "url": url})
    assert status == 201
    assert headers["Location"] == "/api/v1/streams/hall2"
    live = gw.wait_live("hall2")
    assert live["origin"] == "api"
    assert live["hls"] == "/hls/hall2/index.m3u8"
    wait_segments(gw, "hall2", 2)
    streams = probe(gw.base + "/hls/hall2/index.m3u8", seconds=2)
    assert (streams["video"]["width"], streams["video"]["height"]) == (320, 240)
    assert int(streams["video"]["nb_read_frames"]) >= 15
    folder = gw.data_dir / "hls" / "hall2"
    assert any(folder.glob("*.ts"))

    status, _, _ = gw.request("DELETE", "/api/v1/streams/hall2")
    assert status == 204
    assert gw.request("GET", "/api/v1/streams/hall2")[0] == 404
    assert gw.request("GET", "/hls/hall2/index.m3u8")[0] == 404
    assert not folder.exists()
    _, listing = gw.json("GET", "/api/v1/streams")
    assert listing["streams"] == []


def test_stream_list_reports_tracks(gateway):
    live = gateway.wait_live("demo")
    # Caps and bitrates arrive with the first seconds of media.
    live = wait_for(lambda: (s := gateway.stream("demo")) and len(s["tracks"]) == 2 and
                    all(t["bitrate"] > 0 for t in s["tracks"]) and s, 20, what="track info")
    video = next(t for t in live["tracks"] if t["kind"] == "video")
    audio = next(t for t in live["tracks"] if t["kind"] == "audio")
    assert (video["codec"], video["width"], video["height"], video["fps"]) == ("H264", 1280, 720, 30)
    assert (audio["codec"], audio["rate"], audio["channels"]) == ("AAC", 48000, 2)
    assert live["url"] == "test://" and live["origin"] == "config"
    time.sleep(1.5)
    assert gateway.stream("demo")["uptime"] >= 1
