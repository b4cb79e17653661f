import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuMicros, log, type ServiceProcess } from './processes';

const run = promisify(execFile);

/** One autocannon run's options (url, method, headers, body, connections, duration or amount). */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  duration?: number;
  amount?: number;
}

export interface Measurement {
  rps: number;
  /** Latencies in ms: autocannon's percentiles are whole milliseconds; the mean is connections / rate (Little's law). */
  mean: number;
  p50: number;
  p99: number;
  /** CPU microseconds per answered request, by service process name. */
  cpuPerRequest: Record<string, number>;
}

/** Runs autocannon in its own process against `spec` and reads the CPU the given processes used meanwhile. */
export async function measure(spec: LoadSpec, processes: ServiceProcess[]): Promise<Measurement> {
  const before = processes.map((p) => cpuMicros(p.pid));
  const { stdout } = await run(process.execPath, [join(__dirname, '..', 'load-worker.mjs'), JSON.stringify(spec)], { maxBuffer: 1 << 20 });
  const after = processes.map((p) => cpuMicros(p.pid));
  const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { ok: number; failed: number; rps: number; mean: number; p50: number; p99: number };
  if (result.failed > 0) throw new Error(`${spec.method ?? 'GET'} ${spec.url}: ${result.failed} of ${result.ok + result.failed} requests failed`);
  const cpuPerRequest = Object.fromEntries(processes.map((p, i) => [p.name, ((after[i] as number) - (before[i] as number)) / Math.max(result.ok, 1)]));
  return { rps: result.rps, mean: result.mean, p50: result.p50, p99: result.p99, cpuPerRequest };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function medianOf(runs: Measurement[]): Measurement {
  const names = Object.keys(runs[0]?.cpuPerRequest ?? {});
  return {
    rps: median(runs.map((r) => r.rps)),
    mean: median(runs.map((r) => r.mean)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuPerRequest: Object.fromEntries(names.map((name) => [name, median(runs.map((r) => r.cpuPerRequest[name] as number))])),
  };
}

export interface Comparison {
  name: string;
  connections: number;
  platform: Measurement;
  bare: Measurement;
  /** platform req/s over bare req/s, medians of the alternated runs. */
  ratio: number;
}

/**
 * The platform route and its bare counterpart, alternated A,B,A,B,... (`rounds` each) in one run, so drift of the
 * machine (other load, thermal, GC of a long-lived process) touches both alike. Medians of the rounds.
 */
export async function compare(
  name: string,
  platform: { spec: LoadSpec; processes: ServiceProcess[] },
  bare: { spec: LoadSpec; processes: ServiceProcess[] },
  rounds: number,
): Promise<Comparison> {
  const platformRuns: Measurement[] = [];
  const bareRuns: Measurement[] = [];
  for (let round = 1; round <= rounds; round++) {
    log(`  ${name}: round ${round}/${rounds}`);
    platformRuns.push(await measure(platform.spec, platform.processes));
    bareRuns.push(await measure(bare.spec, bare.processes));
  }
  const p = medianOf(platformRuns);
  const b = medianOf(bareRuns);
  return { name, connections: platform.spec.connections, platform: p, bare: b, ratio: p.rps / b.rps };
}
