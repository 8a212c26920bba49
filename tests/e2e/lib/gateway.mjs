// Starts the real hallcast daemon on a free port with a temporary data folder
// and config, for the end-to-end tests. stop() sends SIGTERM, waits, and
// removes the folder when the daemon exited cleanly.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const build = process.env.HC_BUILD_DIR || join(root, 'build');

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

export async function startGateway({ streams = { demo: 'test://' }, extra = '' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hc-e2e-'));
  const port = await freePort();
  let conf = `[gateway]\nhttp_address=127.0.0.1\nhttp_port=${port}\ndata_dir=${join(dir, 'var')}\n`;
  for (const [name, url] of Object.entries(streams)) conf += `\n[stream ${name}]\nurl=${url}\n`;
  writeFileSync(join(dir, 'hallcast.conf'), conf + '\n' + extra);
  const logPath = join(dir, 'hallcast.log');
  const log = openSync(logPath, 'a');
  const proc = spawn(join(build, 'gateway', 'hallcast'), ['--config', join(dir, 'hallcast.conf')],
    { stdio: ['ignore', log, log] });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hallcast exited: ${readFileSync(logPath, 'utf8')}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('hallcast did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    dir,
    log: () => readFileSync(logPath, 'utf8'),
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const code = await new Promise((ok) => proc.on('exit', (c) => ok(c)));
      // A clean exit leaves nothing behind; otherwise the folder (log, data)
      // stays for the reader of the failure.
      if (code === 0) rmSync(dir, { recursive: true, force: true });
      else console.error(`hallcast exited ${code}; its folder is kept: ${dir}`);
      return code;
    },
  };
}

// Polls fn until it returns a truthy value or timeoutMs passes.
export async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
