/**
 * `pnpm bench`: throughput and latency of the platform on this machine, against bare Fastify measured in
 * the same run. The platform runs as it does for `npm run up` (embedded default, one process), started
 * fresh in a temp folder; the load comes from autocannon in this process.
 *
 * BENCH_SECONDS (default 10) per throughput run; BENCH_INSTANCES (default 100000) instances seeded for the
 * query test; BENCH_FILE_MB (default 100) for the attachment test. Results: a table on stdout and BENCHMARKS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import autocannon from 'autocannon';
import { pseudoRandomStream, sha256Of } from '../services/storage/test/support/streams';

const ROOT = join(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 100_000);
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 100);
const CONNECTIONS = 20;
const AUTH = 'http://127.0.0.1:5100';
const STORAGE = 'http://127.0.0.1:5101/storage/api/v1';
const APP = 'http://127.0.0.1:5110/nav/child-benefit';
const PARTY = '50001';
const MB = 1024 * 1024;

interface Row {
  name: string;
  value: number;
  unit: string;
  /** Compared with the baseline's requests per second when the unit is req/s. */
  ratio?: number;
}

const rows: Row[] = [];
const log = (message: string) => process.stderr.write(`${message}\n`);

/** Peak resident set size of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function startProcess(args: string[], env: Record<string, string>, readyLine: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (readyLine.test(output)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function load(name: string, options: autocannon.Options): Promise<autocannon.Result> {
  log(`  ${name} ...`);
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0) throw new Error(`${name}: ${failures} failed requests (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`);
  return result;
}

async function json<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const testToken = async (body: Record<string, unknown>) =>
  (await json<{ access_token: string }>(`${AUTH}/authentication/api/v1/testtoken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).access_token;

async function baseline(): Promise<number> {
  log('bare Fastify hello world');
  const hello = await startProcess([join(__dirname, 'hello.mjs')], { PORT: '5199' }, /listening/);
  try {
    const result = await load('GET /', { url: 'http://127.0.0.1:5199/' });
    rows.push({ name: 'bare Fastify GET / (baseline)', value: result.requests.average, unit: 'req/s', ratio: 1 });
    rows.push({ name: 'bare Fastify peak RSS', value: peakRssMb(hello.pid as number), unit: 'MB' });
    return result.requests.average;
  } finally {
    await stop(hello);
  }
}

async function platformRuns(baselineRps: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'forms-bench-'));
  log(`platform (embedded default, data in ${dataDir})`);
  const platformProcess = await startProcess(['--import', 'tsx', 'scripts/start.ts'], { DATA_DIR: dataDir, LOG_LEVEL: 'error' }, /Stop with Ctrl-C/);
  const pid = platformProcess.pid as number;
  const throughput = (name: string, result: autocannon.Result) =>
    rows.push({ name, value: result.requests.average, unit: 'req/s', ratio: result.requests.average / baselineRps });
  try {
    const person = { authorization: `Bearer ${await testToken({ userId: '1001', partyId: PARTY, expiresInSeconds: 1800 })}` };
    const org = { authorization: `Bearer ${await testToken({ org: 'bench', expiresInSeconds: 1800 })}` };
    // Storage creates instances for a party only when its app asks: the app's own token beside the person's.
    const personViaApp = { ...person, platformaccesstoken: await testToken({ org: 'bench', app: 'bench/load', expiresInSeconds: 1800 }) };
    const jsonHeaders = { 'content-type': 'application/json' };
    await json(`${STORAGE}/applications/bench/load`, {
      method: 'POST',
      headers: { ...org, ...jsonHeaders },
      body: JSON.stringify({ dataTypes: [{ id: 'file', allowedContentTypes: ['application/octet-stream'], maxCount: 0, minCount: 0 }] }),
    });

    // Seeding the query test is itself the storage POST measurement.
    log(`  seeding ${INSTANCES} instances through POST /instances`);
    const seeded = await autocannon({
      url: `${STORAGE}/instances?appId=bench/load`,
      method: 'POST',
      headers: { ...personViaApp, ...jsonHeaders },
      body: JSON.stringify({ instanceOwner: { partyId: PARTY } }),
      connections: CONNECTIONS,
      amount: INSTANCES,
    });
    if (seeded.non2xx + seeded.errors > 0) throw new Error(`seeding: ${seeded.non2xx} non-2xx, ${seeded.errors} errors`);
    throughput(`storage POST /instances (${INSTANCES} in all)`, seeded);

    const first = await json<{ instances: Array<{ id: string }> }>(`${STORAGE}/instances?appId=bench/load&size=1`, { headers: org });
    const instanceId = (first.instances[0] as { id: string }).id;
    throughput('storage GET /instances/{p}/{g}', await load('storage GET instance', { url: `${STORAGE}/instances/${instanceId}`, headers: person }));

    await queryPages(org);

    throughput(
      'app POST /instances (prefill + storage)',
      await load('app POST instances', { url: `${APP}/instances?instanceOwnerPartyId=${PARTY}`, method: 'POST', headers: { ...person, ...jsonHeaders }, body: '{}' }),
    );

    await attachments(person, instanceId);
    rows.push({ name: 'platform peak RSS (auth + storage + 2 apps, one process)', value: peakRssMb(pid), unit: 'MB' });
  } finally {
    await stop(platformProcess);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Latency of page 1 and page 500 (size 100) of the seeded instances: keyset paging keeps them alike. */
async function queryPages(org: Record<string, string>): Promise<void> {
  log('  walking query pages');
  const firstPage = `${STORAGE}/instances?appId=bench/load&size=100`;
  let next: string | null = firstPage;
  const pageUrls: string[] = [];
  while (next && pageUrls.length < 500) {
    pageUrls.push(next);
    next = (await json<{ next: string | null }>(next, { headers: org })).next;
  }
  const median = async (url: string) => {
    const times: number[] = [];
    for (let i = 0; i < 21; i += 1) {
      const started = performance.now();
      await json(url, { headers: org });
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[10] as number;
  };
  const lastPage = pageUrls.length;
  const page1 = await median(firstPage);
  const pageN = await median(pageUrls[lastPage - 1] as string);
  rows.push({ name: 'query page 1 (size 100), median latency', value: page1, unit: 'ms' });
  rows.push({ name: `query page ${lastPage} (size 100), median latency`, value: pageN, unit: 'ms' });
  rows.push({ name: `page ${lastPage} latency / page 1 latency`, value: pageN / page1, unit: 'x' });
}

/** Streams a FILE_MB file up and down again, checking it arrived whole. */
async function attachments(person: Record<string, string>, instanceId: string): Promise<void> {
  log(`  ${FILE_MB} MB upload and download`);
  const size = FILE_MB * MB;
  const expected = await sha256Of(pseudoRandomStream(size, 7));
  let started = performance.now();
  const uploaded = await json<{ id: string; contentHash: string }>(`${STORAGE}/instances/${instanceId}/data?dataType=file`, {
    method: 'POST',
    headers: { ...person, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: Readable.toWeb(pseudoRandomStream(size, 7)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const uploadSeconds = (performance.now() - started) / 1000;
  if (uploaded.contentHash !== expected.hash) throw new Error('upload: stored content differs from what was sent');

  started = performance.now();
  const response = await fetch(`${STORAGE}/instances/${instanceId}/data/${uploaded.id}`, { headers: person });
  const downloaded = await sha256Of(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream));
  const downloadSeconds = (performance.now() - started) / 1000;
  if (downloaded.hash !== expected.hash) throw new Error('download: content differs from what was uploaded');
  rows.push({ name: `attachment upload (${FILE_MB} MB, streamed)`, value: FILE_MB / uploadSeconds, unit: 'MB/s' });
  rows.push({ name: `attachment download (${FILE_MB} MB, streamed)`, value: FILE_MB / downloadSeconds, unit: 'MB/s' });
}

function report(): string {
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${platform()} ${release()}, Node.js ${process.version}`;
  const format = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
  // Ratios span orders of magnitude; three significant digits keep the small ones readable.
  const formatRatio = (ratio: number) => (ratio >= 100 ? ratio.toFixed(0) : ratio.toPrecision(3));
  const lines = [
    '| Measurement | Value | Unit | Ratio to bare Fastify |',
    '| --- | ---: | --- | ---: |',
    ...rows.map((row) => `| ${row.name} | ${format(row.value)} | ${row.unit} | ${row.ratio === undefined ? '' : formatRatio(row.ratio)} |`),
  ];
  return [
    '# Benchmarks',
    '',
    `Measured with \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.`,
    `Load from autocannon (${CONNECTIONS} connections, ${SECONDS} s a run) in the same machine as the services, so`,
    'ratios (to bare Fastify measured in the same run) carry more meaning than absolute figures.',
    'The platform runs on its embedded default (embedded metadata store, local-filesystem blobs), all services in one process.',
    '',
    ...lines,
    '',
    'Reading the figures:',
    '',
    '- Everything here is one Node.js process for the platform and one for the load generator, on the same two cores;',
    '  bare Fastify answers a constant from memory, so the ratios say what the real work costs, not how far it is from',
    '  the framework.',
    '- `POST /instances` through the app service makes three storage calls over HTTP (create the instance, store the',
    '  prefilled and calculated form, read the instance back), each verified, written and audited by storage, which',
    '  writes every blob to a temp file, fsyncs it, renames it and fsyncs the folder.',
    '- Query pages are keyset-paged: page 500 costs what page 1 costs. The embedded store keeps the instances in an',
    '  in-memory index in query order (lastChanged, guid): a page finds its cursor by binary search and walks on until',
    '  it has a page of matches, so it costs what it reads, not what the store holds. The filters themselves are tested',
    '  document by document, so a filter that few instances match reads on further (up to all of them when nothing',
    '  more matches). Events are indexed by instance, so one instance\'s history and audit log are read without',
    '  scanning the others. On MongoDB the indexes created at start-up serve the same queries.',
    '- Peak RSS of the platform includes the embedded store, which keeps every document in memory.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const baselineRps = await baseline();
  await platformRuns(baselineRps);
  const markdown = report();
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown);
  console.log(markdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
