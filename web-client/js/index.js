// The start page: lists the streams (refreshed every few seconds) and plays
// the chosen one; /?stream=NAME&key=KEY plays a stream that has a viewing
// key (or the key is asked for when WHEP answers 401). Every text from the
// server is set as text, never as HTML.
import { listStreams } from './api.js';
import { play, rememberViewKey } from './player.js';

const list = document.getElementById('stream-list');
const status = document.getElementById('streams-status');
const watch = document.getElementById('watch');
const video = document.getElementById('video');
const playerStatus = document.getElementById('player-status');
const keyForm = document.getElementById('key-form');
const keyInput = document.getElementById('key-input');
let current = null;
let player = null;

function describe(s) {
  const v = s.tracks.find((t) => t.kind === 'video');
  const a = s.tracks.find((t) => t.kind === 'audio');
  const parts = [];
  if (v) parts.push(`${v.codec} ${v.width}×${v.height}`);
  if (a) parts.push(a.codec);
  const kbps = s.tracks.reduce((sum, t) => sum + t.bitrate, 0) / 1000;
  if (kbps) parts.push(`${Math.round(kbps)} kbit/s`);
  return parts.join(' · ');
}

async function select(name) {
  if (player) player.stop();
  player = null;
  current = name;
  document.getElementById('watch-name').textContent = name;
  watch.hidden = false;
  keyForm.hidden = true;
  const p = await play(video, name, (text) => { playerStatus.textContent = text; });
  if (current === name && p.kind === 'unauthorized') {
    keyForm.hidden = false;
    keyInput.value = '';
  }
  // A newer choice may have been made while this one connected.
  if (current === name) player = p; else p.stop();
  const params = new URLSearchParams(location.search);
  params.set('stream', name);
  history.replaceState(null, '', `?${params}`);
  render(lastStreams);
}

let lastStreams = [];
function render(streams) {
  lastStreams = streams;
  list.replaceChildren(...streams.map((s) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.stream = s.name;
    b.setAttribute('aria-current', String(s.name === current));
    const name = document.createElement('strong');
    name.textContent = s.name;
    const state = document.createElement('span');
    state.className = `state ${s.state}`;
    state.textContent = s.state;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = s.last_error ? s.last_error : describe(s);
    b.append(name, state, meta);
    b.addEventListener('click', () => select(s.name));
    li.append(b);
    return li;
  }));
  status.textContent = streams.length ? '' : 'No streams yet.';
}

async function refresh() {
  try {
    render(await listStreams());
  } catch (e) {
    status.textContent = `Cannot reach the gateway: ${e.message}`;
  }
}

// A key typed in is kept for this tab only, never put in the URL.
keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!current) return;
  rememberViewKey(current, keyInput.value);
  keyInput.value = '';
  select(current);
});

// Leaving the page ends the WebRTC session at once (WHEP DELETE) instead of
// leaving the gateway to notice the silence.
addEventListener('pagehide', () => { if (player) player.stop(); });

await refresh();
const wanted = new URLSearchParams(location.search).get('stream');
if (wanted) select(wanted);
setInterval(refresh, 5000);
