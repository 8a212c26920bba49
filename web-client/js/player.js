// Plays a hallcast stream in a <video>: HLS through hls.js (or natively where
// the browser plays HLS itself, as Safari does). Returns a handle to stop it.
import Hls from '../node_modules/hls.js/dist/hls.mjs';

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
