/**
 * `pnpm bench`: each platform route against bare Fastify doing the same kind of request, on this machine.
 * The services run as deployed, each in its own process (auth, storage, the nav/child-benefit app; embedded
 * default), bare Fastify in another, and the load generator (autocannon) in a process of its own per run.
 *
 * Settings (environment): BENCH_SECONDS (10) per load run, BENCH_ROUNDS (3) alternated runs per side,
 * BENCH_INSTANCES (100000) seeded for the query, BENCH_FILE_MB (1024) streamed, BENCH_ONLY (scenario ids),
 * BENCH_STORAGE_ENV (JSON: extra storage configuration, e.g. another metadata store), BENCH_CPU_PROF (a folder: each
 * service process writes a V8 CPU profile there when it stops), BENCH_PORT_BASE (first port, default 5290).
 * Writes BENCHMARKS.md (or BENCH_OUTPUT) and prints it.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, platform as osPlatform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from './lib/platform';
import { log, ROOT, RUNTIME } from './lib/processes';
import { scenarios } from './scenarios';
import type { BenchSettings, Section } from './scenarios/scenario';

const settings: BenchSettings = {
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  instances: Number(process.env.BENCH_INSTANCES ?? 100_000),
  fileMb: Number(process.env.BENCH_FILE_MB ?? 1024),
};
const only = process.env.BENCH_ONLY?.split(',').map((id) => id.trim());

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${osPlatform()} ${release()}, Node.js ${process.version}`;
}

function markdown(sections: Section[], loadBefore: number): string {
  return [
    '# Benchmarks',
    '',
    `Measured with \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)} on this machine: ${machine()}`,
    `(load average ${loadBefore.toFixed(1)} when the run started). All figures come from this one machine, with the load`,
    'generator on the same cores as the services: compare ratios (both sides measured in the same run), not absolute',
    'figures, with other machines.',
    ...(loadBefore >= 1
      ? ['', 'Other work was running on the machine during this run (see the load average): the figures are noisier and lower', 'than on a quiet machine; rerun `pnpm bench` there for the figures to quote.']
      : []),
    '',
    `Settings: ${settings.seconds} s per load run, ${settings.rounds} alternated rounds per side, ${settings.instances} seeded instances,`,
    `${settings.fileMb} MB streamed (BENCH_SECONDS, BENCH_ROUNDS, BENCH_INSTANCES, BENCH_FILE_MB).`,
    '',
    'How it runs:',
    '',
    `- Each service in its own process, as deployed: token service, storage and the nav/child-benefit app service, with`,
    `  ${RUNTIME}, on the embedded default (embedded metadata store, blobs on the local filesystem), logging at warn.`,
    '- Bare Fastify (bench/bare.mjs) in a process of its own does the same kind of request as the route it is compared',
    '  with: the same method, headers (the same Authorization header, not checked), body and answer size.',
    '- The load comes from autocannon in a separate process for each run (bench/load-worker.mjs). Platform and bare runs',
    '  alternate (A, B, A, B, ...) in one run, so a change in the machine\'s load touches both sides alike.',
    '- CPU µs per request: CPU time (user + system) of each service process from /proc/<pid>/stat over a run, divided',
    '  by the requests it answered.',
    '',
    ...sections.flatMap((section) => [`## ${section.title}`, '', ...section.lines, '']),
  ].join('\n');
}

async function main(): Promise<void> {
  const chosen = scenarios.filter((scenario) => !only || only.includes(scenario.id));
  const loadBefore = loadavg()[0] as number;
  const storageEnv = process.env.BENCH_STORAGE_ENV ? (JSON.parse(process.env.BENCH_STORAGE_ENV) as Record<string, string>) : undefined;
  // BENCH_PORT_BASE: the first of the ports the services listen on (auth, storage, app, ..., floor at +8, bare at +9).
  const base = process.env.BENCH_PORT_BASE ? Number(process.env.BENCH_PORT_BASE) : undefined;
  const ports = base === undefined ? undefined : { auth: base, storage: base + 1, app: base + 2, floor: base + 8, bare: base + 9 };
  const platform = await startPlatform({ ...(storageEnv && { storageEnv }), ...(ports && { ports }) });
  const sections: Section[] = [];
  try {
    for (const scenario of chosen) {
      log(`scenario ${scenario.id}`);
      sections.push(await scenario.run(platform, settings));
    }
  } finally {
    await platform.stop();
  }
  const text = markdown(sections, loadBefore);
  writeFileSync(process.env.BENCH_OUTPUT ?? join(ROOT, 'BENCHMARKS.md'), text);
  console.log(text);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
