// The stream page plays over WebRTC (WHEP) in Chromium, and falls back to HLS
// when WebRTC cannot be used; leaving the page frees the viewer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/gateway.mjs';
import { gatewayAndBrowser } from './lib/fixture.mjs';
import { playing, viewers as listViewers } from './lib/video.mjs';

const env = gatewayAndBrowser({
  streams: {
    demo: 'test://?width=640&height=360&bitrate=500',
    // No audio: the browser's audio m-line is answered inactive, not rejected.
    silent: 'test://?width=320&height=240&bitrate=300&audio=false',
  },
});

const viewers = () => listViewers(env.gw, 'demo');

test('plays over WebRTC first', async () => {
  const page = await env.browser.newPage();
  await page.goto(env.gw.base + '/?stream=demo');
  assert.deepEqual(await playing(page), [640, 360]);
  assert.equal(await page.locator('#player-status').textContent(), 'Playing over WebRTC');
  const list = await waitFor(async () => (await viewers()).length === 1 && viewers(), 5000,
    'one viewer');
  assert.equal((await list)[0].state, 'connected');
  await page.close({ runBeforeUnload: true }); // pagehide: the page DELETEs its WHEP resource
  await waitFor(async () => (await viewers()).length === 0, 40000, 'the viewer to be freed');
  // Freed by the page leaving (DTLS close_notify or the WHEP DELETE, whichever
  // arrives first), not by the silence timeout.
  assert.match(env.gw.log(), /viewer \S+ \(stream demo\): removed \((deleted|the viewer closed DTLS)\)/);
  // The SRTP profile a browser gets when hallcast picks it (DTLS server).
  assert.match(env.gw.log(), /connected \(AEAD_AES_128_GCM\)/);
});

test('plays a stream without audio over WebRTC (audio m-line inactive)', async () => {
  const page = await env.browser.newPage();
  await page.goto(env.gw.base + '/?stream=silent');
  assert.deepEqual(await playing(page), [320, 240]);
  assert.equal(await page.locator('#player-status').textContent(), 'Playing over WebRTC');
  await page.close({ runBeforeUnload: true });
});

test('falls back to HLS when WHEP is refused', async () => {
  const page = await env.browser.newPage();
  // Stand-in for a network that blocks WebRTC: the WHEP POST fails.
  await page.route('**/whep/**', (route) => route.fulfill({ status: 503, body: 'blocked' }));
  await waitFor(async () => {
    const r = await fetch(env.gw.base + '/hls/demo/index.m3u8');
    return r.ok && (await r.text()).split('.ts').length > 3;
  }, 30000, 'two HLS segments');
  await page.goto(env.gw.base + '/?stream=demo');
  assert.deepEqual(await playing(page), [640, 360]);
  assert.match(await page.locator('#player-status').textContent(), /HLS/);
  await page.close();
});
