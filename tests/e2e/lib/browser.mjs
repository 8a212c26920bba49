// Launches Debian's Chromium (never a downloaded browser) through playwright-core.
import { chromium } from 'playwright-core';

export async function launch({ camera = false } = {}) {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    '--autoplay-policy=no-user-gesture-required'];
  if (camera) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
}
