/**
 * Bench scenario: a 50 MB upload to storage with malware scanning (streamed to a real clamd alongside the blob
 * write) against the same upload without scanning. Goal: scanned throughput at least 0.8 of unscanned.
 *
 * Both storages (one per configuration, each on the embedded default in a temp folder) run in the bench process, so
 * the two sides differ only in scanning; clamd is started with the project's script (test-support/backends/clamd.sh).
 * Without clamd the scenario says so and reports nothing. Run alone with `pnpm --filter @forms/bench exec tsx scenarios/upload-scanning.ts`.
 * BENCH_SCAN_FILE_MB (default 50), BENCH_SCAN_RUNS (default 7 pairs; medians count, and the ratio is the median of
 * the pairs' ratios: each pair ran back to back, so a change in the machine's load touches both of its uploads alike).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_TOKEN_HEADER, Scopes } from '../../packages/contracts/src';
import { buildStorageApp } from '../../services/storage/src/app';
import { createBlobStore, createMetadataStore } from '../../services/storage/src/adapters';
import { loadStorageConfig } from '../../services/storage/src/config';
import { pseudoRandomStream } from '../../services/storage/test/support/streams';
import { freePort, TestIssuer } from '../../test-support/src';
import type { Scenario, Section } from './scenario';

export interface ScenarioRow {
  name: string;
  value: number;
  unit: string;
  ratio?: number;
}

const MB = 1024 * 1024;
const FILE_MB = Number(process.env.BENCH_SCAN_FILE_MB ?? 50);
const RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 7);
const CLAMD_SCRIPT = join(__dirname, '..', '..', 'test-support', 'backends', 'clamd.sh');

function startClamd(dir: string, port: number): Promise<number | string> {
  return new Promise((resolve) => {
    execFile('bash', [CLAMD_SCRIPT, dir, String(port)], { env: { ...process.env, STREAM_MAX_MB: String(FILE_MB * 2) }, timeout: 180_000 }, (error, stdout, stderr) => {
      const pid = /pid (\d+)/.exec(stdout);
      resolve(error || !pid ? `clamd could not be started: ${stderr.trim() || String(error)}` : Number(pid[1]));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Polls the element until its scan is no longer Pending; the seconds from `started` until then (none when not scanned). */
async function verdictOf(
  base: string,
  org: Record<string, string>,
  instanceId: string,
  element: { id: string; fileScanResult?: string },
  started: bigint,
): Promise<{ result: string; seconds?: number }> {
  let result = element.fileScanResult ?? 'NotApplicable';
  if (result === 'NotApplicable') return { result };
  for (let polls = 0; result === 'Pending' && polls < 3000; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const current = (await (await fetch(`${base}/instances/${instanceId}`, { headers: org })).json()) as { data: Array<{ id: string; fileScanResult?: string }> };
    result = current.data.find((d) => d.id === element.id)?.fileScanResult ?? 'gone';
  }
  return { result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

interface Upload {
  mbPerSecond: number;
  /** Seconds from the upload's first byte until its verdict was recorded; none when not scanned. */
  verdictSeconds?: number;
}

interface BenchStorage {
  /** One upload of FILE_MB, then (untimed) a wait for its verdict. */
  upload(run: number): Promise<Upload & { answered: string; result: string }>;
  close(): Promise<void>;
}

/** A storage on the embedded default in a temp folder, configured with `env`, with an instance to upload to. */
async function startStorage(issuer: TestIssuer, env: Record<string, string>): Promise<BenchStorage> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-scan-'));
  const config = loadStorageConfig({ DATA_DIR: dataDir, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, REAPER_INTERVAL_SECONDS: '0', LOG_LEVEL: 'error', ...env });
  const app = await buildStorageApp({ config, store: createMetadataStore(config), blobs: createBlobStore(config), logger: false });
  const close = async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const base = `${await app.listen({ host: '127.0.0.1', port: 0 })}/storage/api/v1`;
    const org = { authorization: `Bearer ${issuer.orgToken({ org: 'bench', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] })}` };
    // The party's requests as the app service makes them: its token beside the app's own (storage takes instance
    // creation only from the app).
    const person = {
      authorization: `Bearer ${issuer.userToken({ userId: 1001, partyId: '50001', scopes: [Scopes.instancesRead, Scopes.instancesWrite] })}`,
      [ACCESS_TOKEN_HEADER]: issuer.appToken({ app: 'bench/scan' }),
    };
    const json = { 'content-type': 'application/json' };
    const registered = await fetch(`${base}/applications/bench/scan`, {
      method: 'POST',
      headers: { ...org, ...json },
      body: JSON.stringify({ dataTypes: [{ id: 'file', enableFileScan: true, maxCount: 0, minCount: 0 }] }),
    });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);
    const instance = (await (
      await fetch(`${base}/instances?appId=bench/scan`, { method: 'POST', headers: { ...person, ...json }, body: JSON.stringify({ instanceOwner: { partyId: '50001' } }) })
    ).json()) as { id: string };
    const upload = async (run: number) => {
      const started = process.hrtime.bigint();
      const response = await fetch(`${base}/instances/${instance.id}/data?dataType=file`, {
        method: 'POST',
        headers: { ...person, 'content-type': 'application/octet-stream' },
        // A new seed each run: clamd caches verdicts by content hash, which would flatter repeated scans.
        body: pseudoRandomStream(FILE_MB * MB, 1000 + run) as unknown as RequestInit['body'],
        duplex: 'half',
      } as RequestInit);
      const element = (await response.json()) as { id: string; fileScanResult?: string };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (response.status !== 201) throw new Error(`upload: ${response.status} ${JSON.stringify(element)}`);
      // The next upload starts once this one's verdict is recorded: each run measures one upload, not the upload
      // competing with clamd's scan of the one before for this machine's cores.
      const verdict = await verdictOf(base, org, instance.id, element, started);
      return {
        mbPerSecond: FILE_MB / seconds,
        answered: element.fileScanResult ?? 'NotApplicable',
        result: verdict.result,
        ...(verdict.seconds !== undefined && { verdictSeconds: verdict.seconds }),
      };
    };
    return { upload, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Uploads to both storages in turn (A, B, A, B, ...), so a change in the machine's load touches both alike; medians, and the median of the pairs' ratios. */
async function alternatedUploads(plain: BenchStorage, scanned: BenchStorage, log: (line: string) => void): Promise<{ plain: Upload; scanned: Upload; ratio: number }> {
  const runs = { plain: [] as Upload[], scanned: [] as Upload[] };
  for (let run = 0; run < RUNS; run++) {
    for (const [side, storage] of [['plain', plain], ['scanned', scanned]] as const) {
      const upload = await storage.upload(run);
      runs[side].push(upload);
      const verdict = upload.verdictSeconds === undefined ? '' : `, ${upload.result} after ${upload.verdictSeconds.toFixed(2)} s`;
      log(`  ${side === 'plain' ? 'without scanning' : 'with scanning'} run ${run + 1}: ${upload.mbPerSecond.toFixed(1)} MB/s (answered ${upload.answered}${verdict})`);
    }
  }
  const summary = (list: Upload[]): Upload => {
    const verdicts = list.flatMap((u) => (u.verdictSeconds === undefined ? [] : [u.verdictSeconds]));
    return { mbPerSecond: median(list.map((u) => u.mbPerSecond)), ...(verdicts.length > 0 && { verdictSeconds: median(verdicts) }) };
  };
  const pairRatios = runs.scanned.map((scanned, run) => scanned.mbPerSecond / (runs.plain[run] as Upload).mbPerSecond);
  return { plain: summary(runs.plain), scanned: summary(runs.scanned), ratio: median(pairRatios) };
}

export async function uploadScanning(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<ScenarioRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-clamd-'));
  const port = await freePort();
  const clamd = await startClamd(dir, port);
  if (typeof clamd === 'string') {
    log(`upload scanning scenario skipped: ${clamd}`);
    rmSync(dir, { recursive: true, force: true });
    return [];
  }
  const issuer = await TestIssuer.start();
  try {
    log(`upload scanning: ${FILE_MB} MB uploads, ${RUNS} runs each`);
    const plainStorage = await startStorage(issuer, {});
    const scannedStorage = await startStorage(issuer, {
      CLAMD_HOST: '127.0.0.1',
      CLAMD_PORT: String(port),
      CLAMD_STREAM_MAX_MB: String(FILE_MB * 2),
      CLAMD_TIMEOUT_MS: '60000',
    }).catch(async (error: unknown) => {
      await plainStorage.close();
      throw error;
    });
    let results: { plain: Upload; scanned: Upload; ratio: number };
    try {
      results = await alternatedUploads(plainStorage, scannedStorage, log);
    } finally {
      await plainStorage.close();
      await scannedStorage.close();
    }
    const { plain, scanned, ratio } = results;
    return [
      { name: `storage upload ${FILE_MB} MB, not scanned`, value: plain.mbPerSecond, unit: 'MB/s' },
      { name: `storage upload ${FILE_MB} MB, scanned by clamd while streaming`, value: scanned.mbPerSecond, unit: 'MB/s' },
      { name: `storage upload ${FILE_MB} MB: scanned / not scanned throughput (goal ≥ 0.8)`, value: ratio, unit: 'ratio' },
      ...(scanned.verdictSeconds !== undefined
        ? [{ name: `scanned upload ${FILE_MB} MB: from its first byte until clamd's verdict is recorded`, value: scanned.verdictSeconds, unit: 's' }]
        : []),
    ];
  } finally {
    await issuer.stop();
    try {
      process.kill(clamd, 'SIGTERM');
    } catch {
      // already gone
    }
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500).unref();
  }
}

/** `pnpm bench` scenario `scanning` (listed in scenarios/index.ts). */
export const uploadScanningScenario: Scenario = {
  id: 'scanning',
  async run(): Promise<Section> {
    const rows = await uploadScanning();
    const title = `Malware scanning: a ${FILE_MB} MB upload with and without clamd`;
    if (rows.length === 0) return { title, lines: ['Skipped: clamd could not be started on this machine (see the log).'] };
    return {
      title,
      lines: [
        '| Measurement | Value | Unit |',
        '| --- | ---: | --- |',
        ...rows.map((row) => `| ${row.name} | ${row.value.toFixed(2)} | ${row.unit} |`),
        '',
        `Medians of ${RUNS} pairs of uploads (unscanned, then scanned, back to back); the ratio is the median of the pairs' ratios.`,
        'Storage runs in the bench process on the embedded default; each upload starts once',
        'the verdict of the one before is recorded, so the scanned side is not also competing with clamd scanning the',
        'previous file for the same cores (the last row shows when the verdict came). The scanned upload streams to clamd',
        'alongside the blob write, with backpressure from the slower of the two. clamd scans a stream once it has ended,',
        'so uploads above SCAN_VERDICT_WAIT_MAX_MB (8) are answered Pending at once and their verdict is recorded when',
        'clamd answers; smaller ones wait up to SCAN_VERDICT_WAIT_MS (200 ms) for it. Here clamd shares the cores and the',
        'disk (it writes the stream to a temp file before scanning it) with storage and the client, as it would not in a',
        'deployment; on a busy machine that shows as a lower ratio.',
      ],
    };
  },
};

if (require.main === module) {
  uploadScanning()
    .then((rows) => {
      for (const row of rows) console.log(`${row.name}: ${row.value.toFixed(2)} ${row.unit}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
