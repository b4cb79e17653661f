import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startClamd } from './clamd.mjs';

// Jest global setup: one set of back-ends for the whole run; tests read TEST_MONGODB_URL, TEST_S3_ENDPOINT and
// TEST_CLAMD_HOST/TEST_CLAMD_PORT (or TEST_CLAMD_UNAVAILABLE with the reason clamd could not be started).
export default async function globalSetup() {
  const clamd = startClamd();
  await startStoreBackends();
  const started = await clamd;
  if (started.unavailable) {
    process.env.TEST_CLAMD_UNAVAILABLE = started.unavailable;
  } else {
    Object.assign(process.env, started.env);
    globalThis.__TEST_CLAMD_PID__ = started.pid;
    globalThis.__TEST_CLAMD_DIR__ = started.dir;
  }
}

async function startStoreBackends() {
  const script = fileURLToPath(new URL('./start-backends.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('test back-ends did not start within 20 s')), 20_000);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`test back-ends exited with ${code}`));
    });
  });
  Object.assign(process.env, JSON.parse(line));
  child.stdout.removeAllListeners('data');
  child.stdout.destroy();
  child.removeAllListeners('exit');
  child.unref();
  globalThis.__TEST_BACKENDS_PID__ = child.pid;
}
