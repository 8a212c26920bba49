// What the stream pages' <video id="video"> shows, for the end-to-end tests.
import { waitFor } from './gateway.mjs';

// Waits until the page's video plays and advances by more than `advance`
// seconds; returns its [width, height].
export async function playing(page, { startMs = 20000, advance = 1 } = {}) {
  const t0 = await waitFor(() => page.evaluate(() => {
    const v = document.getElementById('video');
    return v.readyState >= 2 && v.currentTime > 0 ? v.currentTime : 0;
  }), startMs, 'playback to start');
  await waitFor(() => page.evaluate(([t, d]) => document.getElementById('video').currentTime > t + d,
    [t0, advance]), 15000, 'playback to advance');
  return page.evaluate(() => {
    const v = document.getElementById('video');
    return [v.videoWidth, v.videoHeight];
  });
}

// The WebRTC viewers of stream, from the gateway's API.
export async function viewers(gw, stream) {
  const r = await fetch(`${gw.base}/api/v1/streams/${stream}/viewers`);
  return (await r.json()).viewers;
}
