// A stream with a viewing key plays in Chromium when the stream page is
// opened with ?key=KEY: the page sends it as Authorization: Bearer on WHEP,
// takes it out of the address bar, and the key never reaches the log. Without
// a key, or with a wrong one, the page says so (WHEP 401) instead of playing,
// and asks for the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/gateway.mjs';
import { gatewayAndBrowser } from './lib/fixture.mjs';
import { playing, viewers as listViewers } from './lib/video.mjs';

const KEY = 'classroom-Key_0123456789abcdef';
const SMALL = 'test://?width=320&height=240&bitrate=300';
const env = gatewayAndBrowser({ streams: {}, extra: `[stream locked]\nurl=${SMALL}\nview_key=${KEY}\n` });

const viewers = () => listViewers(env.gw, 'locked');

// Opens the page and records the Authorization header of each WHEP POST and
// every Referer the page sent.
async function open(path) {
  const page = await env.browser.newPage();
  const sent = { auth: [], referers: [] };
  page.on('request', (r) => {
    const h = r.headers();
    if (r.method() === 'POST' && r.url().includes('/whep/')) sent.auth.push(h.authorization ?? null);
    if (h.referer) sent.referers.push(h.referer);
  });
  await page.goto(env.gw.base + path);
  return { page, sent };
}

const status = (page) => page.locator('#player-status').textContent();

test('plays a locked stream with ?key= and keeps the key out of URL, Referer and log', async () => {
  await waitFor(async () => (await fetch(env.gw.base + '/api/v1/streams/locked')).ok &&
    (await (await fetch(env.gw.base + '/api/v1/streams/locked')).json()).state === 'live',
  30000, 'stream locked live');
  const { page, sent } = await open(`/?stream=locked&key=${KEY}`);
  assert.deepEqual(await playing(page), [320, 240]);
  assert.equal(await status(page), 'Playing over WebRTC');
  assert.deepEqual(sent.auth, [`Bearer ${KEY}`]);
  assert.ok(!page.url().includes(KEY), page.url());
  assert.ok(page.url().includes('stream=locked'), page.url());
  assert.ok(sent.referers.every((r) => !r.includes(KEY)), sent.referers.join('\n'));
  const list = await viewers();
  assert.equal(list.length, 1);
  assert.equal(list[0].state, 'connected');
  // A reload in the same tab keeps playing: the key is remembered for the tab.
  await page.reload();
  assert.deepEqual(await playing(page), [320, 240]);
  assert.deepEqual(sent.auth, [`Bearer ${KEY}`, `Bearer ${KEY}`]);
  await page.close({ runBeforeUnload: true });
  await waitFor(async () => (await viewers()).length === 0, 40000, 'the viewers to be freed');
  assert.ok(!env.gw.log().includes(KEY), 'the viewing key is in the log');
});

test('without a key the page says one is needed, then plays with the key typed in', async () => {
  const { page, sent } = await open('/?stream=locked');
  await waitFor(async () => /needs a viewing key/.test(await status(page)), 15000,
    'the page to ask for a key');
  assert.deepEqual(sent.auth, [null]);
  assert.equal(await page.locator('#key-form').isVisible(), true);
  // No silent fallback around the key: nothing plays, no viewer was made.
  assert.equal(await page.evaluate(() => document.getElementById('video').readyState), 0);
  assert.equal((await viewers()).length, 0);
  await page.fill('#key-input', KEY);
  await page.click('#key-form button[type=submit]');
  assert.deepEqual(await playing(page), [320, 240]);
  assert.equal(await status(page), 'Playing over WebRTC');
  assert.deepEqual(sent.auth, [null, `Bearer ${KEY}`]);
  assert.ok(!page.url().includes(KEY), page.url());
  await page.close({ runBeforeUnload: true });
});

test('a wrong key is refused with a message saying so', async () => {
  const { page, sent } = await open('/?stream=locked&key=not-the-key');
  await waitFor(async () => /viewing key was not accepted/.test(await status(page)), 15000,
    'the page to refuse the key');
  assert.deepEqual(sent.auth, ['Bearer not-the-key']);
  assert.equal(await page.locator('#key-form').isVisible(), true);
  assert.ok(!page.url().includes('not-the-key'), page.url());
  await page.close();
});
