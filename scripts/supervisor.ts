/**
 * Runs services as child processes, as their containers would run: each its own Node process (its own core,
 * memory and crash), started from its production entry point (src/server.ts, through tsx) and configured only
 * by its environment.
 *
 * Each child gets its own process group, so a terminal's Ctrl-C reaches the supervisor alone, which then stops
 * the services in dependency order. Each child also has an IPC channel to the supervisor: should the supervisor
 * die without stopping them, the channel closes and the services close themselves (see service-kit's
 * closeTogetherOnShutdown).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceSpec {
  /** Shown to the user, e.g. "storage" or "app nav/child-benefit". */
  name: string;
  /** TypeScript entry point, relative to the working folder. */
  entry: string;
  env: NodeJS.ProcessEnv;
  host: string;
  port: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const describeExit = ({ code, signal }: Exit): string => (signal ? `signal ${signal}` : `exit code ${code}`);

/** The address to reach a service on from this machine (a service listening on every interface included). */
export const localHost = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;

  constructor(
    readonly spec: ServiceSpec,
    cwd: string,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
      cwd,
      env: spec.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // Could not be started at all (no such executable): report it as an exit.
      this.child.once('error', () => {
        this.exit ??= { code: 127, signal: null };
        resolve(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get baseUrl(): string {
    return `http://${localHost(this.spec.host)}:${this.spec.port}`;
  }

  /** Resolves once GET /health answers 200; rejects when the process ends first or `timeoutMs` passes. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.exit === undefined) {
      try {
        const response = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.spec.name} was not ready within ${timeoutMs / 1000} s`);
      await Promise.race([sleep(100), this.exited]);
    }
    throw new Error(`${this.spec.name} stopped before it was ready (${describeExit(this.exit)})`);
  }

  /** SIGTERM (the service closes gracefully), then SIGKILL if it has not ended within `graceMs`. */
  async stop(graceMs: number): Promise<Exit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Rejects with one readable line naming the first port that something else already listens on. */
export async function assertPortsFree(services: ServiceSpec[]): Promise<void> {
  for (const { name, host, port } of services) {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`port ${port} (${name}) is already in use: is \`npm run up\` already running? Stop it (Ctrl-C), or free the port.`)
            : error,
        ),
      );
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}
