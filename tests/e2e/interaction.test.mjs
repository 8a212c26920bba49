// Classroom and lecturer pages in Chromium over the real /ws: a question
// travels from a school to the lecturer, is approved and voted on; a quiz is
// answered and its results published; a raised hand is brought on stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/gateway.mjs';
import { gatewayAndBrowser } from './lib/fixture.mjs';

let lecturer;
let school;
let other;

const page = async (path) => {
  const p = await env.browser.newPage();
  p.on('dialog', (d) => d.dismiss());
  await p.goto(env.gw.base + path);
  await waitFor(async () => (await p.locator('#conn-status').textContent()) === 'connected',
    10000, `${path} connected`);
  return p;
};
const text = (p, sel) => p.locator(sel).textContent();

const env = gatewayAndBrowser({ streams: { demo: 'test://?width=320&height=240&bitrate=300' } },
  async () => {
    const q = 'session=lecture1&stream=demo&via=hls';
    lecturer = await page(`/lecturer.html?${q}&token=lecturer:museum:Dr%20Ada`);
    school = await page(`/school.html?${q}&token=school:school-12:Room%204`);
    other = await page(`/school.html?${q}&token=school:school-7:Room%201`);
  });

test('a question goes through moderation to every classroom and gets votes', async () => {
  await school.fill('#ask-text', 'Why do <b>stars</b> twinkle?');
  await school.click('#ask button[type=submit]');
  await waitFor(async () => /approves/.test(await text(school, '#ask-status')), 5000, 'ask ack');
  const lq = lecturer.locator('#questions li', { hasText: 'Why do <b>stars</b> twinkle?' });
  await waitFor(() => lq.count(), 5000, 'the question on the lecturer page');
  assert.match(await lq.textContent(), /pending/);
  // Moderation is on: the other classroom does not see it yet.
  assert.equal(await other.locator('#questions li').count(), 0);
  await lq.locator('[data-action="qa.approve"]').click();
  const oq = other.locator('#questions li', { hasText: 'twinkle' });
  await waitFor(() => oq.count(), 5000, 'the approved question in another classroom');
  // Server text is shown as text: the <b> is literal, not markup.
  assert.equal(await other.locator('#questions li b').count(), 0);
  await oq.locator('button').click();
  await waitFor(async () => (await lq.locator('.votes').textContent()) === '1', 5000, 'one vote');
  await lq.locator('[data-action="qa.highlight"]').click();
  await waitFor(async () => /being answered/.test(await school.locator('#questions li').textContent()),
    5000, 'highlighted on the school page');
});

test('a quiz: results stay hidden until published, then show the right answer', async () => {
  await lecturer.fill('#poll-question', 'How many planets orbit the Sun?');
  await lecturer.fill('#poll-options', '*8\n9\n12');
  await lecturer.click('#poll-form button[type=submit]');
  const lp = lecturer.locator('#polls li', { hasText: 'How many planets' });
  await waitFor(() => lp.count(), 5000, 'the poll on the lecturer page');
  await lp.locator('[data-action="poll.open"]').click();
  await waitFor(() => school.locator('#poll:not([hidden]) input[value="0"]').count(), 5000, 'the poll in class');
  await school.check('#poll input[value="0"]');
  await school.click('#poll button[type=submit]');
  await other.locator('#poll input[value="1"]').waitFor();
  await other.check('#poll input[value="1"]');
  await other.click('#poll button[type=submit]');
  await waitFor(async () => /\(1\).*\(1\)/.test(await lp.textContent()), 5000, 'counts for the lecturer');
  assert.doesNotMatch(await text(school, '#poll'), /8: 1/); // hidden from classes while open
  await lp.locator('[data-action="poll.close"]').click();
  await waitFor(() => lp.locator('[data-action="poll.publish"]').count(), 5000, 'closed');
  await lp.locator('[data-action="poll.publish"]').click();
  await waitFor(async () => /8: 1 ✓/.test(await text(school, '#poll')), 5000, 'published results');
  assert.match(await text(other, '#poll'), /9: 1/);
});

test('a raised hand is queued and brought on stage', async () => {
  await other.click('#hand');
  await school.click('#hand');
  await waitFor(async () => (await lecturer.locator('#hands li').count()) === 2, 5000, 'two hands');
  assert.deepEqual(await lecturer.locator('#hands li').evaluateAll((l) => l.map((x) => x.dataset.site)),
    ['school-7', 'school-12']);
  assert.match(await text(school, '#hand-status'), /number 2/);
  await lecturer.locator('#hands li[data-site="school-12"] button').click();
  await waitFor(() => school.locator('#stage-notice:not([hidden])').count(), 5000, 'stage invitation');
  assert.equal(await other.locator('#stage-notice:not([hidden])').count(), 0);
});

// Requests sent in order from a connection of its own (an operator's, in
// the lecturer's page, as a control desk would); returns their answers.
const asOperator = (requests) => lecturer.evaluate(async (reqs) => {
  const ws = new WebSocket(`ws://${location.host}/ws?token=operator:hq:Op`);
  await new Promise((resolve) => { ws.onopen = resolve; });
  const answers = [];
  for (const [i, r] of [{ type: 'session.join', session: 'lecture1' }, ...reqs].entries()) {
    answers.push(await new Promise((resolve) => {
      ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.id === i) resolve(m); };
      ws.send(JSON.stringify({ ...r, id: i }));
    }));
  }
  ws.close();
  return answers.slice(1);
}, requests);

test('a change of Q&A visibility reaches every classroom through its snapshot', async () => {
  const [asked] = await asOperator([{ type: 'qa.ask', text: 'Is the Moon hollow?' }]);
  assert.equal(asked.type, 'ack');
  const hollow = other.locator('#questions li', { hasText: 'hollow' });
  await waitFor(() => hollow.count(), 5000, 'the published question in a classroom');
  // The lecturer's own switch (session.configure qa_visibility).
  await lecturer.locator('#answered-only').check();
  // Answered-only: the classroom keeps the highlighted question, not the other.
  await waitFor(async () => (await hollow.count()) === 0, 5000, 'the question hidden');
  assert.equal(await other.locator('#questions li', { hasText: 'twinkle' }).count(), 1);
  assert.equal(await lecturer.locator('#questions li', { hasText: 'hollow' }).count(), 1);
  await lecturer.locator('#answered-only').uncheck();
  await waitFor(() => hollow.count(), 5000, 'the question shown again');
  // An operator's change shows on the lecturer's switch too.
  await asOperator([{ type: 'session.configure', qa_visibility: 'answered' }]);
  await waitFor(() => lecturer.locator('#answered-only').isChecked(), 5000, 'the switch following');
  await asOperator([{ type: 'session.configure', qa_visibility: 'all' }]);
  await waitFor(async () => !(await lecturer.locator('#answered-only').isChecked()), 5000,
    'the switch back');
});

test('a classroom that opens its link early waits for the lecturer to open the session', async () => {
  const q = 'session=later1&stream=demo&via=hls';
  const early = await env.browser.newPage();
  await early.goto(`${env.gw.base}/school.html?${q}&token=school:school-5:Room%202`);
  await waitFor(async () => (await text(early, '#conn-status')) === 'waiting for the session to open',
    10000, 'the school waiting');
  const lec = await page(`/lecturer.html?${q}&token=lecturer:museum:Dr%20Ada`);
  await waitFor(async () => (await text(early, '#conn-status')) === 'connected', 10000,
    'the school joined once the session exists');
  // The lecturer's site list: its snapshot, then the school's arrival as a change.
  await waitFor(async () => (await text(lec, '#presence')) === '2 sites, 2 connections', 5000,
    'presence on the lecturer page');
  await early.close();
  await waitFor(async () => (await text(lec, '#presence')) === '1 sites, 1 connections', 5000,
    'the school left');
  await lec.close();
});
