"""Audio/video sync through the sender reports: the RTCP SRs of the video and
of the audio track must map RTP time to one clock, or a browser cannot
lip-sync (the video's mapping was once hours off, from x264enc's offset
PTS). An independent receiver (aiortc) reads the SRs and the live packets;
the bound is generous (a second) so only a broken mapping fails it, and
fast start must still put the first frame near the join point."""
import asyncio

from whep_aiortc import fast_start_figures


def test_sender_reports_map_video_and_audio_to_one_clock(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=640&height=360&bitrate=800"})
    gw.wait_live("demo")
    for _ in range(2):
        figures = asyncio.run(asyncio.wait_for(fast_start_figures(gw.base, "demo"), 60))
        assert abs(figures["sr_av_skew"]) < 1000, figures
        # Each report's mapping on its own: capture times near arrival (the
        # video's was once as far off as the machine's uptime, which hid in
        # the skew until the 90 kHz clock passed its half range).
        assert -1000 < figures["sr_delay_video"] < 2000, figures
        assert -1000 < figures["sr_delay_audio"] < 2000, figures
        assert abs(figures["first_video_minus_audio"]) < 3000, figures
        # The cached GOP's timestamps are squeezed towards the join point.
        assert figures["burst_media"] < 500, figures
