import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
const SERVER = join(REPO_ROOT, 'services', 'events', 'src', 'server.ts');

/** The events service as a real child process (for tests that SIGKILL it), with its output collected. */
export class EventsProcess {
  readonly lines: string[] = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {}

  static async start(env: Record<string, string>): Promise<EventsProcess> {
    // node with tsx's loader, not the tsx wrapper: the SIGKILL must hit the server itself.
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`events did not start within 60 s:\n${lines.join('\n')}`)), 60_000);
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString();
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          lines.push(line);
          const match = /events API at (http:\/\/[^ ,"]+?)\/events\/api\/v1/.exec(line);
          if (match) {
            clearTimeout(timer);
            resolve(match[1] as string);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`events exited with ${code}:\n${lines.join('\n')}`));
      });
    });
    const started = new EventsProcess(child, baseUrl);
    started.lines.push(...lines);
    child.stdout?.on('data', (chunk: Buffer) => started.lines.push(...chunk.toString().split('\n').filter(Boolean)));
    return started;
  }

  /** SIGKILL: no shutdown hooks; what is on disk is what a crash leaves. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM and wait: a graceful stop. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
