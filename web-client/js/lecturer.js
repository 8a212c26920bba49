// The lecturer's (and operator's) page: lecturer.html?session=ID&stream=NAME&token=TOKEN.
// Moderates the question queue, calls on raised hands, brings a classroom on
// stage, runs polls and quizzes, and shows which classrooms are in.
import { play } from './player.js';
import { SessionClient, sortedQuestions, el } from './session.js';

const params = new URLSearchParams(location.search);
const session = params.get('session') || 'default';
const stream = params.get('stream');
const token = params.get('token') || 'lecturer:museum:Lecturer';
const $ = (id) => document.getElementById(id);

$('session-name').textContent = `· ${session}`;
if (stream) play($('video'), stream, (t) => { $('player-status').textContent = t; });

const client = new SessionClient({ session, token });
const act = (type, fields) => client.request(type, fields).catch((e) => alert(e.message));
client.addEventListener('status', (e) => { $('conn-status').textContent = e.detail; });
client.addEventListener('change', () => render(client.state));

// Which actions a question in each state offers, in the protocol's state machine.
const ACTIONS = {
  pending: [['Approve', 'qa.approve'], ['Dismiss', 'qa.dismiss']],
  published: [['Answer now', 'qa.highlight'], ['Answered', 'qa.answer'], ['Dismiss', 'qa.dismiss']],
  highlighted: [['Answered', 'qa.answer'], ['Dismiss', 'qa.dismiss']],
  answered: [['Reopen', 'qa.reopen']],
  dismissed: [['Reopen', 'qa.reopen']],
};

function render(s) {
  $('who').textContent = `${s.you.name} (${s.you.role})`;
  const sites = Array.isArray(s.presence) ? s.presence : [];
  const viewers = sites.reduce((n, x) => n + x.viewers, 0);
  $('presence').textContent = `${sites.length} sites, ${viewers} connections`;
  $('moderation').checked = !!s.settings.moderation;
  $('answered-only').checked = s.settings.qa_visibility === 'answered';
  $('hands').replaceChildren(...s.hands.map((site) => el('li', { 'data-site': site }, site, ' ',
    s.stage.includes(site)
      ? el('button', { type: 'button', class: 'secondary', onclick: () => act('stage.remove', { site }) }, 'Remove from stage')
      : el('button', { type: 'button', class: 'secondary', onclick: () => act('stage.invite', { site }) }, 'Bring on stage'))));
  const order = ['highlighted', 'pending', 'published', 'answered', 'dismissed'];
  const qs = order.flatMap((st) => sortedQuestions(s.questions, [st]));
  $('questions').replaceChildren(...qs.map((q) => el('li', { class: q.state, 'data-question': q.id },
    el('span', { class: 'votes' }, String(q.votes)),
    el('span', {}, q.text, el('span', { class: 'badge' }, q.state),
      el('span', { class: 'who' }, q.anonymous ? 'anonymous' : `${q.name} · ${q.site}`),
      q.answer ? el('span', { class: 'answer' }, q.answer) : null,
      el('span', { class: 'actions' }, (ACTIONS[q.state] || []).map(([label, type]) =>
        el('button', { type: 'button', class: 'secondary', 'data-action': type,
          onclick: () => act(type, { question: q.id }) }, label)))))));
  $('polls').replaceChildren(...[...s.polls.values()].reverse().map((p) => {
    const next = { draft: ['Open', 'poll.open'], open: ['Close', 'poll.close'], closed: ['Publish results', 'poll.publish'] }[p.state];
    return el('li', { 'data-poll': p.id },
      el('span', { class: 'votes' }, String(p.votes ?? '')),
      el('span', {}, p.question, el('span', { class: 'badge' }, p.state),
        el('span', { class: 'who' }, p.options.map((o, i) =>
          `${p.correct?.includes(i) ? '✓ ' : ''}${o}${p.counts ? ` (${p.counts[i]})` : ''}`).join(' · ')),
        next ? el('span', { class: 'actions' }, el('button', { type: 'button', 'data-action': next[1],
          onclick: () => act(next[1], { poll: p.id }) }, next[0])) : null));
  }));
}

$('moderation').addEventListener('change', (e) => act('session.configure', { moderation: e.target.checked }));
$('answered-only').addEventListener('change', (e) =>
  act('session.configure', { qa_visibility: e.target.checked ? 'answered' : 'all' }));
$('hand-next').addEventListener('click', () => act('hand.next'));
$('hand-clear').addEventListener('click', () => act('hand.lower_all'));
$('poll-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const lines = $('poll-options').value.split('\n').map((l) => l.trim()).filter(Boolean);
  const correct = lines.flatMap((l, i) => (l.startsWith('*') ? [i] : []));
  const options = lines.map((l) => l.replace(/^\*\s*/, ''));
  try {
    await client.request('poll.create', { question: $('poll-question').value, options,
      multi: $('poll-multi').checked, ...(correct.length ? { correct } : {}) });
    $('poll-form').reset();
    $('poll-status').textContent = 'Created: open it when the class is ready.';
  } catch (err) {
    $('poll-status').textContent = err.message;
  }
});

client.connect();
