// The start page lists the live demo stream and plays it over HLS (hls.js) in
// Chromium: the video element's time advances and it has the stream's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/gateway.mjs';
import { gatewayAndBrowser } from './lib/fixture.mjs';
import { playing } from './lib/video.mjs';

const env = gatewayAndBrowser({ streams: { demo: 'test://?width=640&height=360&bitrate=500' } });

test('stream list shows the live demo stream', async () => {
  const page = await env.browser.newPage();
  await page.goto(env.gw.base + '/');
  const item = page.locator('#stream-list button[data-stream="demo"]');
  await waitFor(async () => {
    await page.reload();
    return (await item.locator('.state').textContent()) === 'live';
  }, 20000, 'demo live in the list');
  assert.match(await item.locator('.meta').textContent(), /H264 640×360/);
  await page.close();
});

test('clicking a stream plays it over HLS', async () => {
  const page = await env.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // HLS needs a couple of segments before a player can start.
  await waitFor(async () => {
    const r = await fetch(env.gw.base + '/hls/demo/index.m3u8');
    return r.ok && (await r.text()).split('.ts').length > 3;
  }, 30000, 'two HLS segments');
  await page.goto(env.gw.base + '/?via=hls');
  await page.locator('#stream-list button[data-stream="demo"]').click();
  assert.deepEqual(await playing(page, { startMs: 30000, advance: 1.5 }), [640, 360]);
  assert.match(await page.locator('#player-status').textContent(), /HLS/);
  assert.deepEqual(errors, []);
  await page.close();
});
