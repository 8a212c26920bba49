// The classroom page, opened from a join link:
//   school.html?session=ID&stream=NAME&token=TOKEN
// Plays the lecture (WHEP, HLS fallback), asks and votes on questions, raises
// the hand, answers polls. All server text is shown as text, never as HTML.
import { play } from './player.js';
import { SessionClient, sortedQuestions, el } from './session.js';

const params = new URLSearchParams(location.search);
const session = params.get('session') || 'default';
const stream = params.get('stream');
const token = params.get('token') || 'school:classroom:Classroom';
const $ = (id) => document.getElementById(id);

$('session-name').textContent = `· ${session}`;
if (stream) play($('video'), stream, (t) => { $('player-status').textContent = t; });

const client = new SessionClient({ session, token });
const myVotes = new Set();
const myPollVotes = new Map();

client.addEventListener('status', (e) => { $('conn-status').textContent = e.detail; });
client.addEventListener('change', () => render(client.state));

function render(s) {
  const you = s.you;
  $('who').textContent = `${you.name} (${you.site})`;
  // Hands: one queue, the same order for everyone.
  const pos = s.hands.indexOf(you.site);
  $('hand').textContent = pos >= 0 ? 'Lower hand' : 'Raise hand';
  $('hand-status').textContent = pos >= 0 ? `You are number ${pos + 1} in the queue` : '';
  $('stage-notice').hidden = !s.stage.includes(you.site);
  renderQuestions(s);
  renderPoll(s);
}

function renderQuestions(s) {
  // Pending questions are seen only by their author (and moderators).
  const list = sortedQuestions(s.questions, ['highlighted', 'published', 'answered', 'pending']);
  $('questions').replaceChildren(...list.map((q) => {
    const voted = myVotes.has(q.id);
    const vote = el('button', {
      type: 'button', class: 'secondary', 'aria-pressed': String(voted),
      disabled: q.state === 'pending' || q.state === 'answered',
      onclick: () => client.request(voted ? 'qa.unvote' : 'qa.vote', { question: q.id })
        .then(() => { voted ? myVotes.delete(q.id) : myVotes.add(q.id); render(client.state); })
        .catch((e) => { if (e.code === 'already_voted') { myVotes.add(q.id); render(client.state); } }),
    }, voted ? '−1' : '+1');
    return el('li', { class: q.state, 'data-question': q.id },
      el('span', { class: 'votes' }, String(q.votes), vote),
      el('span', {},
        q.text,
        q.state !== 'published' ? el('span', { class: 'badge' }, q.state === 'highlighted' ? 'being answered' : q.state) : null,
        el('span', { class: 'who' }, q.anonymous ? 'anonymous' : `${q.name} · ${q.site}`),
        q.answer ? el('span', { class: 'answer' }, q.answer) : null));
  }));
}

function renderPoll(s) {
  const polls = [...s.polls.values()].filter((p) => p.state === 'open' || p.state === 'published');
  const p = polls[polls.length - 1];
  $('poll').hidden = !p;
  if (!p) return;
  $('poll-title').textContent = p.quiz ? 'Quiz' : 'Poll';
  const body = [el('p', {}, p.question)];
  if (p.state === 'open') {
    const mine = myPollVotes.get(p.id);
    const form = el('form', {
      onsubmit: (e) => {
        e.preventDefault();
        const choices = [...form.querySelectorAll('input:checked')].map((i) => Number(i.value));
        client.request('poll.vote', { poll: p.id, choices })
          .then(() => { myPollVotes.set(p.id, choices); render(client.state); })
          .catch((err) => { form.querySelector('.status').textContent = err.message; });
      },
    }, p.options.map((o, i) => el('label', { class: 'option' },
      el('input', { type: p.multi ? 'checkbox' : 'radio', name: 'choice', value: i,
        checked: mine?.includes(i), disabled: !!mine }), ` ${o}`)),
    el('button', { type: 'submit', disabled: !!mine }, mine ? 'Answer sent' : 'Send answer'),
    el('span', { class: 'status', role: 'status' }));
    body.push(form);
  } else {
    const total = Math.max(1, p.votes);
    body.push(...p.options.map((o, i) => el('div', { class: 'option' },
      el('span', { class: p.correct?.includes(i) ? 'correct' : '' },
        `${o}: ${p.counts[i]}${p.correct?.includes(i) ? ' ✓' : ''}`),
      el('div', { class: 'bar', style: `width:${(100 * p.counts[i]) / total}%` }))));
  }
  $('poll-body').replaceChildren(...body);
}

$('ask').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('ask-text').value.trim();
  if (!text) return;
  try {
    const r = await client.request('qa.ask', { text, anonymous: $('ask-anon').checked });
    $('ask-text').value = '';
    $('ask-status').textContent = r.state === 'pending'
      ? 'Sent: it appears for everyone once a moderator approves it.' : 'Sent.';
  } catch (err) {
    $('ask-status').textContent = err.message;
  }
});

$('hand').addEventListener('click', () => {
  const up = client.state?.hands.includes(client.state.you.site);
  client.request(up ? 'hand.lower' : 'hand.raise').catch((e) => {
    $('hand-status').textContent = e.message;
  });
});

client.connect();
