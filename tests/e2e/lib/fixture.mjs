// One gateway and one Chromium for a test file: registered with node:test's
// before/after, so every file starts and stops them the same way. The
// returned object's gw and browser fields are set once before() has run;
// setup(env), if given, runs right after they are up.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './gateway.mjs';
import { launch } from './browser.mjs';

export function gatewayAndBrowser(options, setup) {
  const env = { gw: null, browser: null };
  before(async () => {
    env.gw = await startGateway(options);
    env.browser = await launch();
    if (setup) await setup(env);
  });
  after(async () => {
    await env.browser?.close();
    assert.equal(await env.gw?.stop(), 0, 'hallcast exits 0 on SIGTERM');
  });
  return env;
}
