// Starts the project's real clamd (clamd.sh) for the jest run, on a free loopback port in a temp folder.
// Resolves { env, pid } when it is ready, or { unavailable: reason } when clamd cannot be started on this
// machine (not installed and no root/apt to install it, or the install or start failed).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.mjs';

export const CLAMD_SCRIPT = fileURLToPath(new URL('./clamd.sh', import.meta.url));
/** Exit code of clamd.sh meaning "not installed and cannot be installed here". */
const UNAVAILABLE = 3;

export async function startClamd() {
  const dir = mkdtempSync(join(tmpdir(), 'clamd-'));
  const port = await freePort();
  const child = spawn('bash', [CLAMD_SCRIPT, dir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  // Installing with apt on a fresh CI machine takes ~15-60 s.
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 180_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code === UNAVAILABLE) return { unavailable: err.trim() || 'clamd cannot be started here' };
  const match = /clamd ready on 127\.0\.0\.1:(\d+) pid (\d+)/.exec(out);
  // Any other failure (no network for apt, a broken install) also leaves the scanning tests to skip, saying why;
  // under CI=true they fail on it instead (test-support/src/clamd.ts).
  if (code !== 0 || !match) return { unavailable: `clamd did not start (exit ${code}): ${err.trim().split('\n').slice(-5).join(' ')}` };
  return {
    pid: Number(match[2]),
    dir,
    env: { TEST_CLAMD_HOST: '127.0.0.1', TEST_CLAMD_PORT: String(port), TEST_CLAMD_SCRIPT: CLAMD_SCRIPT },
  };
}
