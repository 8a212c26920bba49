// WHEP playback (docs/PROTOCOL.md, "WHEP"): one recvonly RTCPeerConnection,
// the offer POSTed as application/sdp (with Authorization: Bearer TOKEN when
// a token, the stream's viewing key, is given), the answer applied, DELETE on
// the returned Location to leave. Rejects if media does not flow within
// timeoutMs; a refused offer rejects with a WhepError carrying the status.

export class WhepError extends Error {
  constructor(status, message) {
    super(`WHEP ${status}: ${message}`);
    this.status = status;
    this.reason = message;
  }
}

const waitGathering = (pc, ms) => new Promise((resolve) => {
  // hallcast is ICE-lite and learns our address from STUN checks, so host
  // candidates are enough; do not wait long for slower ones.
  if (pc.iceGatheringState === 'complete') return resolve();
  const t = setTimeout(resolve, ms);
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
  });
});

export async function playWhep(video, stream, { timeoutMs = 5000, token } = {}) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  let resource = null;
  const stop = () => {
    pc.close();
    if (resource) fetch(resource, { method: 'DELETE', keepalive: true }).catch(() => {});
  };
  try {
    const media = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      media.addTrack(e.track);
      video.srcObject = media;
    };
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, 1000);
    const headers = { 'Content-Type': 'application/sdp' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`/whep/${encodeURIComponent(stream)}`,
      { method: 'POST', headers, body: pc.localDescription.sdp });
    const body = await res.text();
    if (res.status !== 201) {
      let reason = body;
      try { reason = JSON.parse(body).error.message; } catch { /* plain text */ }
      throw new WhepError(res.status, reason);
    }
    resource = new URL(res.headers.get('Location'), location.href).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('WebRTC did not connect in time')), timeoutMs);
      const check = () => {
        if (pc.connectionState === 'connected') { clearTimeout(t); resolve(); }
        if (pc.connectionState === 'failed') { clearTimeout(t); reject(new Error('WebRTC failed')); }
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    });
    return { stop, kind: 'webrtc', pc };
  } catch (e) {
    stop();
    throw e;
  }
}
