// The interaction client (docs/PROTOCOL.md, "WebSocket /ws"): one WebSocket,
// requests answered by ack/error, a session state kept from the snapshot and
// the events after it, and reconnection with `since` so nothing is missed.

// A moderator's presence push: the whole list (`full`) or the sites that
// changed, with their counts now (0: the site left). Returns the new list.
function mergePresence(list, msg) {
  const sites = new Map(msg.full || !Array.isArray(list) ? [] : list.map((x) => [x.site, x]));
  for (const x of msg.sites) {
    if (x.viewers > 0) sites.set(x.site, x);
    else sites.delete(x.site);
  }
  return [...sites.values()].sort((a, b) => (a.site < b.site ? -1 : a.site > b.site));
}

export class SessionClient extends EventTarget {
  constructor({ session, token }) {
    super();
    this.session = session;
    this.token = token;
    this.nextId = 1;
    this.waiting = new Map(); // request id -> {resolve, reject}
    this.state = null; // filled by the snapshot
    this.seq = 0;
    this.closed = false;
    this.backoff = 500;
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/ws?token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = async () => {
      this.backoff = 500;
      try {
        const since = this.state ? { since: this.seq } : {};
        const joined = await this.request('session.join', { session: this.session, ...since });
        // A since older than the kept log gets a fresh snapshot instead of a replay.
        if (joined.mode === 'snapshot') {
          this.load(joined.state);
          this.emit('change', this.state);
        }
        this.emit('status', 'connected');
      } catch (e) {
        // A school may open its link before the lecturer opens the session.
        if (e.code === 'not_found' && !this.closed) {
          this.emit('status', 'waiting for the session to open');
          setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.onopen(); }, 3000);
          return;
        }
        this.emit('status', `cannot join: ${e.message}`);
      }
    };
    ws.onmessage = (m) => this.receive(JSON.parse(m.data));
    ws.onclose = () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
      if (this.closed) return;
      this.emit('status', 'reconnecting');
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // Sends a request; resolves with the ack's result, rejects with the error.
  request(type, fields = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  receive(msg) {
    if (msg.type === 'ack' || msg.type === 'error') {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (!w) return;
      if (msg.type === 'ack') w.resolve(msg.result);
      else w.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      return;
    }
    if (msg.type === 'presence') {
      if (!this.state) return;
      this.state.presence = msg.sites ? mergePresence(this.state.presence, msg) : msg.total;
    } else if (msg.type === 'session.snapshot') {
      // After a change of Q&A visibility: the whole state as this client may
      // now see it, with the seq of the last event it includes.
      if (!this.state) return;
      this.load(msg.state);
    } else if (typeof msg.seq === 'number') {
      if (!this.state || msg.seq <= this.seq) return; // already applied
      this.apply(msg);
      this.seq = msg.seq;
    } else {
      return;
    }
    this.emit('change', this.state);
  }

  load(snap) {
    const byId = (arr) => new Map(arr.map((x) => [x.id, x]));
    this.state = {
      settings: snap.settings,
      questions: byId(snap.questions),
      chat: byId(snap.chat),
      polls: byId(snap.polls),
      hands: snap.hands,
      stage: snap.stage,
      presence: snap.presence,
      you: snap.you,
    };
    this.seq = snap.seq;
  }

  // Events carry the object they changed as this client may see it; merging
  // keeps what an earlier, fuller view said (a moderator's counts, say).
  apply(ev) {
    const s = this.state;
    const merge = (map, obj) => map.set(obj.id, { ...map.get(obj.id), ...obj });
    if (ev.question && typeof ev.question === 'object') merge(s.questions, ev.question);
    // Vote counts come batched: {questions: [{id, votes}, ...]}.
    if (ev.type === 'qa.votes') for (const q of ev.questions) merge(s.questions, q);
    if (ev.type === 'chat.deleted') s.chat.delete(ev.message);
    else if (ev.message && typeof ev.message === 'object') merge(s.chat, ev.message);
    if (ev.poll && typeof ev.poll === 'object') merge(s.polls, ev.poll);
    if (ev.type === 'poll.voted' && s.polls.has(ev.poll)) {
      merge(s.polls, { id: ev.poll, votes: ev.votes, counts: ev.counts });
    }
    if (ev.queue) s.hands = ev.queue;
    if (ev.stage) s.stage = ev.stage;
    if (ev.settings) s.settings = ev.settings;
    this.emit('event', ev);
  }
}

// Questions in the order the protocol defines: votes, then age.
export function sortedQuestions(questions, states) {
  return [...questions.values()]
    .filter((q) => states.includes(q.state))
    .sort((a, b) => (b.votes - a.votes) || (a.asked - b.asked));
}

// Builds an element with text content only (never HTML from the server).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (v !== false && v != null) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}
