// Plays a hallcast stream in a <video>: WebRTC over WHEP first (sub-second),
// and HLS through hls.js (or natively, as Safari does) when WebRTC cannot
// connect within a few seconds. Returns a handle to stop it.
import Hls from '../node_modules/hls.js/dist/hls.mjs';
import { playWhep } from './whep.js';

// Tries WHEP, falls back to HLS. ?via=hls or ?via=webrtc in the page URL forces one.
export async function play(video, stream, onStatus) {
  const via = new URLSearchParams(location.search).get('via');
  if (via !== 'hls' && 'RTCPeerConnection' in window) {
    onStatus('Connecting over WebRTC…');
    try {
      const p = await playWhep(video, stream, { timeoutMs: 5000 });
      onStatus('Playing over WebRTC');
      video.play().catch(() => onStatus('Press play to start'));
      return p;
    } catch (e) {
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
