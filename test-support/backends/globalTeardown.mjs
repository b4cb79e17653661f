export default async function globalTeardown() {
  const pid = globalThis.__TEST_BACKENDS_PID__;
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
