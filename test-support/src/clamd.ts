import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClamdTarget {
  host: string;
  port: number;
}

/**
 * The clamd that jest's global setup started, or undefined when it could not be started on this machine
 * (the scanning tests then skip and say why). Under CI=true a missing clamd fails the run instead.
 */
export function sharedClamd(): ClamdTarget | undefined {
  const port = process.env.TEST_CLAMD_PORT;
  if (port) return { host: process.env.TEST_CLAMD_HOST ?? '127.0.0.1', port: Number(port) };
  const reason = process.env.TEST_CLAMD_UNAVAILABLE ?? 'clamd was not started by the global setup';
  if (process.env.CI === 'true') throw new Error(`CI=true: the malware-scanning tests must run against a real clamd, but ${reason}`);
  console.warn(`SKIPPED malware-scanning tests (no real clamd): ${reason}`);
  return undefined;
}

/** `describe` when a real clamd is running, `describe.skip` (with a message) otherwise; fails under CI=true. */
export function describeWithClamd(name: string, body: (clamd: ClamdTarget) => void): void {
  const clamd = sharedClamd();
  if (clamd) describe(name, () => body(clamd));
  else describe.skip(`${name} (skipped: no clamd)`, () => body({ host: '127.0.0.1', port: 0 }));
}

/**
 * A clamd of a test's own, for tests that kill it (SIGKILL) and start it again on the same port.
 * Started with the project's script (test-support/backends/clamd.sh).
 */
export class PrivateClamd {
  pid = 0;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(port: number, env: Record<string, string> = {}): Promise<PrivateClamd> {
    const clamd = new PrivateClamd(port, mkdtempSync(join(tmpdir(), 'clamd-private-')), env);
    await clamd.restart();
    return clamd;
  }

  async restart(): Promise<void> {
    const script = process.env.TEST_CLAMD_SCRIPT;
    if (!script) throw new Error('TEST_CLAMD_SCRIPT is not set: run the tests through jest');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('bash', [script, this.dir, String(this.port)], { env: { ...process.env, ...this.env }, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`clamd.sh failed: ${stderr}`)) : resolve(stdout),
      );
    });
    const match = /pid (\d+)/.exec(out);
    if (!match) throw new Error(`clamd.sh printed no pid: ${out}`);
    this.pid = Number(match[1]);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    this.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
