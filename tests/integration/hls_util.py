"""HLS helpers for tests: read a live playlist, probe and decode with ffprobe/ffmpeg."""
import json
import re
import subprocess


def playlist_segments(text):
    """Segment URIs of a media playlist, in order."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def media_sequence(text):
    m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    return int(m.group(1)) if m else None


def probe(url, seconds=4, timeout=60):
    """Decodes `seconds` of the stream at url; returns {codec_type: stream dict}
    with nb_read_frames counted by actually decoding."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-read_intervals", f"%+{seconds}", "-count_frames",
         "-show_entries", "stream=codec_type,codec_name,width,height,sample_rate,nb_read_frames",
         "-of", "json", url],
        capture_output=True, text=True, timeout=timeout, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def decode_errors(url, seconds=4, timeout=60):
    """stderr of a full decode of `seconds` of the stream; empty when clean."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-t", str(seconds),
                        "-f", "null", "-"], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stderr.strip()
