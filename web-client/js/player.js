// Plays a hallcast stream in a <video>: WebRTC over WHEP first (sub-second),
// and HLS through hls.js (or natively, as Safari does) when WebRTC cannot
// connect within a few seconds. Returns a handle to stop it. A stream with a
// viewing key is watched with the key the page was opened with (?key=).
import Hls from '../node_modules/hls.js/dist/hls.mjs';
import { playWhep } from './whep.js';

const KEYS = 'hallcast.viewKeys';

function storedKeys() {
  try { return JSON.parse(sessionStorage.getItem(KEYS)) || {}; } catch { return {}; }
}

// Remembers key as stream's viewing key for this tab (a reload keeps it).
export function rememberViewKey(stream, key) {
  const keys = storedKeys();
  if (key) keys[stream] = key; else delete keys[stream];
  try { sessionStorage.setItem(KEYS, JSON.stringify(keys)); } catch { /* private mode */ }
}

// The viewing key of stream: from ?key= in the page URL (for the stream the
// URL names, else for any), which is then taken out of the address bar so it
// is not left in history, bookmarks, screenshots or Referer headers; or the
// one remembered for this tab. '' when there is none.
export function viewKey(stream) {
  const params = new URLSearchParams(location.search);
  const key = params.get('key');
  if (key !== null) {
    const named = params.get('stream');
    params.delete('key');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    if (key) rememberViewKey(named || stream, key);
  }
  return storedKeys()[stream] || '';
}

// Text for a refused WHEP offer that the viewer can act on, or null.
function refusal(e, key) {
  if (e.status !== 401 && e.status !== 403) return null;
  return key
    ? 'This viewing key was not accepted for this stream: ask for a new link'
    : 'This stream needs a viewing key: open it with the link you were given';
}

// Tries WHEP, falls back to HLS. ?via=hls or ?via=webrtc in the page URL
// forces one. A refused viewing key (401) ends there, with onStatus telling
// why, and the handle's kind is 'unauthorized'.
export async function play(video, stream, onStatus) {
  const via = new URLSearchParams(location.search).get('via');
  const key = viewKey(stream);
  if (via !== 'hls' && 'RTCPeerConnection' in window) {
    onStatus('Connecting over WebRTC…');
    try {
      const p = await playWhep(video, stream, { timeoutMs: 5000, token: key || undefined });
      onStatus('Playing over WebRTC');
      video.play().catch(() => onStatus('Press play to start'));
      return p;
    } catch (e) {
      const denied = refusal(e, key);
      if (denied) {
        onStatus(denied);
        return { stop: () => {}, kind: 'unauthorized' };
      }
      if (via === 'webrtc') {
        onStatus(`WebRTC failed: ${e.message}`);
        return { stop: () => {}, kind: 'none' };
      }
      onStatus(`WebRTC unavailable (${e.message}); switching to HLS`);
    }
  }
  video.srcObject = null;
  return playHls(video, stream, onStatus);
}

export function playHls(video, stream, onStatus) {
  const url = `/hls/${encodeURIComponent(stream)}/index.m3u8`;
  if (Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: false, liveSyncDurationCount: 2 });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      onStatus('Playing over HLS');
      video.play().catch(() => onStatus('Press play to start'));
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) {
        onStatus(`HLS error: ${data.details}; retrying`);
        setTimeout(() => hls.loadSource(url), 2000);
      }
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    return { stop: () => hls.destroy(), kind: 'hls' };
  }
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    onStatus('Playing over native HLS');
    return { stop: () => video.removeAttribute('src'), kind: 'hls-native' };
  }
  onStatus('This browser cannot play HLS');
  return { stop: () => {}, kind: 'none' };
}
