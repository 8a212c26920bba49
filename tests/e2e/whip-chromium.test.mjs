// A lecturer's browser goes live over WHIP: Chromium publishes its fake camera
// and microphone (H.264 + Opus) to a whip:// stream, the stream goes live with
// the camera's size, a second Chromium page plays it over WHEP and sees frames,
// and the publisher's DELETE leaves the stream idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/gateway.mjs';
import { launch } from './lib/browser.mjs';
import { gatewayAndBrowser } from './lib/fixture.mjs';

const KEY = 'lecturer-9d1c4e77';
const env = gatewayAndBrowser({ streams: {}, extra: `[stream lecture]\nurl=whip://\nkey=${KEY}\n` });

const stream = async () => (await fetch(env.gw.base + '/api/v1/streams/lecture')).json();

// In the publishing page: the WHIP exchange of docs/PROTOCOL.md, H.264 first.
async function publish(key) {
  const media = await navigator.mediaDevices.getUserMedia(
    { video: { width: 640, height: 480 }, audio: true });
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const tr = pc.addTransceiver(track, { direction: 'sendonly' });
    if (track.kind === 'video') {
      tr.setCodecPreferences(RTCRtpSender.getCapabilities('video').codecs.filter(
        (c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine)));
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  // Not trickled: the offer carries the candidates gathered within 3 s.
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
    setTimeout(done, 3000);
  });
  const r = await fetch('/whip/lecture', {
    method: 'POST', body: pc.localDescription.sdp,
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${key}` },
  });
  const body = await r.text();
  if (r.status !== 201) return { status: r.status, body };
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  window.whip = { pc, session: r.headers.get('Location') };
  return { status: r.status, body };
}

test('Chromium publishes its camera over WHIP, another page watches over WHEP', async () => {
  const camera = await launch({ camera: true });
  try {
    const pub = await camera.newPage();
    await pub.goto(env.gw.base + '/healthz'); // the gateway's origin: same-origin fetch
    const refused = await pub.evaluate(publish, 'not-the-key');
    assert.equal(refused.status, 401, refused.body);

    const answer = await pub.evaluate(publish, KEY);
    assert.equal(answer.status, 201, answer.body);
    assert.match(answer.body, /a=rtpmap:\d+ H264\/90000/);
    await waitFor(() => pub.evaluate(() => window.whip.pc.connectionState === 'connected'),
      20000, 'the publisher connected');

    const live = await waitFor(async () => {
      const s = await stream();
      const video = s.tracks?.find((t) => t.kind === 'video');
      return s.state === 'live' && video?.width && s.tracks.some((t) => t.kind === 'audio') && s;
    }, 30000, 'lecture live with video and audio');
    const video = live.tracks.find((t) => t.kind === 'video');
    assert.deepEqual([video.codec, video.width, video.height], ['H264', 640, 480]);

    // A classroom watches over WHEP with the web client's own player module
    // (js/whep.js; the stream page also loads hls.js, which this does not need).
    const view = await env.browser.newPage();
    await view.goto(env.gw.base + '/healthz');
    await view.evaluate(async () => {
      const { playWhep } = await import('/js/whep.js');
      const video = document.createElement('video');
      video.id = 'video';
      video.muted = true;
      document.body.append(video);
      window.viewer = await playWhep(video, 'lecture', { timeoutMs: 10000 });
      await video.play();
    });
    const frames = () => view.evaluate(
      () => document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames);
    await waitFor(async () => (await frames()) > 30, 30000, 'the viewer decoding 30 frames');
    assert.deepEqual(await view.evaluate(() => {
      const v = document.getElementById('video');
      return [v.videoWidth, v.videoHeight];
    }), [640, 480]);
    const n = await frames();
    await waitFor(async () => (await frames()) > n + 15, 15000, 'frames still coming');
    const viewers = await (await fetch(env.gw.base + '/api/v1/streams/lecture/viewers')).json();
    assert.equal(viewers.viewers.length, 1);
    assert.equal(viewers.viewers[0].state, 'connected');
    await view.close();

    // The lecturer stops: DELETE the WHIP session; the stream waits again.
    const status = await pub.evaluate(async () => {
      const r = await fetch(window.whip.session, { method: 'DELETE' });
      window.whip.pc.close();
      return r.status;
    });
    assert.equal(status, 204);
    await waitFor(async () => (await stream()).state === 'idle', 20000, 'lecture idle');
  } finally {
    await camera.close();
  }
});
