import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  for (const pid of [globalThis.__TEST_BACKENDS_PID__, globalThis.__TEST_CLAMD_PID__]) stop(pid);
  if (globalThis.__TEST_CLAMD_DIR__) setTimeout(() => rmSync(globalThis.__TEST_CLAMD_DIR__, { recursive: true, force: true }), 500).unref();
}

function stop(pid) {
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
