import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Jest global setup: one pair of back-ends for the whole run; tests read TEST_MONGODB_URL and TEST_S3_ENDPOINT.
export default async function globalSetup() {
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
