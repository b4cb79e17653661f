import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
/** How services run: as their images run them (bench/lib/bundles.ts). */
export const RUNTIME = 'node --enable-source-maps dist/server.js (the production bundles of scripts/build.mjs, as the images run them)';
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export const log = (message: string) => process.stderr.write(`${message}\n`);

/** A service (or baseline) in its own process, as deployed. */
export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `node <script>` (a service's bundle with --enable-source-maps, as its image does) and waits until it is
 * ready: a line of its output matches `ready`, or, given a URL, that URL answers 200 (services log at warn in the
 * bench: per-request logs cost CPU).
 */
export function startProcess(name: string, script: string, env: Record<string, string>, ready: RegExp | string): Promise<ServiceProcess> {
  // BENCH_CPU_PROF=<folder>: each service writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // A service's bundle (.js) as its image starts it; bare Fastify (.mjs) as it is; the store floor (.ts) through tsx.
  const loader = script.endsWith('.js') ? ['--enable-source-maps'] : script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const args = [...profile, ...loader, script];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const service: ServiceProcess = {
    name,
    child,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    let output = '';
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(service);
    };
    const timer = setTimeout(() => finish(new Error(`${name} did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output = `${output}${chunk.toString()}`.slice(-20_000);
      if (typeof ready !== 'string' && ready.test(output)) finish();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => finish(new Error(`${name} exited with ${code} before it was ready:\n${output}`)));
    if (typeof ready === 'string') {
      const poll = async () => {
        while (!done) {
          const status = await fetch(ready).then((r) => r.status, () => 0);
          if (status === 200) return finish();
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      void poll();
    }
  });
}

/** CPU time (user + system) the process has used so far, in microseconds, from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the whole line)
  return (ticks / CLOCK_TICKS_PER_SECOND) * 1_000_000;
}

/** Resident set size now (VmRSS) and at its peak so far (VmHWM), in MB. */
export function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { now: field('VmRSS'), peak: field('VmHWM') };
}

/** Resets the peak RSS (VmHWM) of a process to its current RSS, so a later peak is the growth of one step. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false; // not allowed here: the peak then counts from the start of the process
  }
}
