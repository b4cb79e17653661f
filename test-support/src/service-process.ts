import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');

export interface ServiceProcessOptions {
  /** For messages: `storage`, `events`, ... */
  name: string;
  /** The server's entry, relative to the repository root, e.g. `services/storage/src/server.ts`. */
  entry: string;
  /** A log line that says the service listens; its first group is the base URL. */
  ready: RegExp;
  env: Record<string, string>;
  startTimeoutMs?: number;
}

/** A service as a real child process (for tests that SIGKILL it), with its log lines collected. */
export class ServiceProcess {
  /** Resolves once the process has exited, however it ended. */
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly lines: string[],
  ) {
    this.exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Everything it printed so far, one line after another. */
  output(): string {
    return this.lines.join('\n');
  }

  /** The signal that ended it (`SIGKILL`, ...), or null while it runs or when it exited by itself. */
  get signalCode(): NodeJS.Signals | null {
    return this.child.signalCode;
  }

  /** Sends a signal without waiting: SIGSTOP to make it hang with its connections open, SIGCONT to go on. */
  send(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const { name, ready, startTimeoutMs = 60_000 } = options;
    // node with tsx's loader, not the tsx wrapper: a SIGKILL must hit the server itself.
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, options.entry)], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    const collect = (chunk: Buffer): void => {
      buffered += chunk.toString();
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        lines.push(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${startTimeoutMs / 1000} s:\n${lines.join('\n')}`)), startTimeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}:\n${lines.join('\n')}`));
      };
      const check = (): void => {
        for (const line of lines) {
          const match = ready.exec(line);
          if (match) {
            clearTimeout(timer);
            child.off('exit', onExit);
            child.stdout?.off('data', check);
            child.stderr?.off('data', check);
            resolve(match[1] as string);
            return;
          }
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.once('exit', onExit);
    });
    return new ServiceProcess(child, baseUrl, lines);
  }

  /** SIGKILL: no shutdown hooks, no flushing; what is on disk is what a crash leaves. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM and wait: a graceful stop. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    this.send(signal);
    await this.exited;
  }
}
