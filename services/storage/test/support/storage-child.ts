import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

export interface StorageProcess {
  child: ChildProcess;
  /** e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

/**
 * The storage service as its own process (`src/server.ts` through tsx), configured by `env` only, as an
 * operator runs it: so a test can kill it for real (SIGKILL, SIGSTOP) and start it again on the same data.
 */
export async function startStorageProcess(env: Record<string, string>): Promise<StorageProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'storage', 'src', 'server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`storage did not start within 60 s:\n${output}`)), 60_000);
    const check = (): void => {
      const match = /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`storage exited before listening:\n${output}`));
    });
  });
  return { child, baseUrl, output: () => output, exited };
}

/** Ends the process with `signal` and waits until it is gone. */
export async function stopStorageProcess(storage: StorageProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!storage || storage.child.exitCode !== null || storage.child.signalCode !== null) return;
  storage.child.kill(signal);
  await storage.exited;
}
