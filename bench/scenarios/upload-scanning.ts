/**
 * Bench scenario: a 50 MB upload to storage with malware scanning (streamed to a real clamd alongside the blob
 * write) against the same upload without scanning. Goal: scanned throughput at least 0.8 of unscanned.
 *
 * Both storages (one per configuration, each on the embedded default in a temp folder) run in the bench process, so
 * the two sides differ only in scanning; clamd is started with the project's script (test-support/backends/clamd.sh).
 * Without clamd the scenario says so and reports nothing. Run alone with `pnpm --filter @forms/bench exec tsx scenarios/upload-scanning.ts`.
 * BENCH_SCAN_FILE_MB (default 50), BENCH_SCAN_RUNS (default 5, the median counts).
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
const RUNS = Number(process.env.BENCH_SCAN_RUNS ?? 5);
const CLAMD_SCRIPT = join(__dirname, '..', '..', 'test-support', 'backends', 'clamd.sh');

function startClamd(dir: string, port: number): Promise<number | string> {
  return new Promise((resolve) => {
    execFile('bash', [CLAMD_SCRIPT, dir, String(port)], { env: { ...process.env, STREAM_MAX_MB: String(FILE_MB * 2) }, timeout: 180_000 }, (error, stdout, stderr) => {
      const pid = /pid (\d+)/.exec(stdout);
      resolve(error || !pid ? `clamd could not be started: ${stderr.trim() || String(error)}` : Number(pid[1]));
    });
  });
}

/** Median MB/s of uploading FILE_MB of random bytes to a storage configured with `env`. */
async function uploadThroughput(issuer: TestIssuer, env: Record<string, string>, log: (line: string) => void, label: string): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-scan-'));
  const config = loadStorageConfig({ DATA_DIR: dataDir, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, REAPER_INTERVAL_SECONDS: '0', LOG_LEVEL: 'error', ...env });
  const app = await buildStorageApp({ config, store: createMetadataStore(config), blobs: createBlobStore(config), logger: false });
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
    const speeds: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = process.hrtime.bigint();
      const response = await fetch(`${base}/instances/${instance.id}/data?dataType=file`, {
        method: 'POST',
        headers: { ...person, 'content-type': 'application/octet-stream' },
        // A new seed each run: clamd caches verdicts by content hash, which would flatter repeated scans.
        body: pseudoRandomStream(FILE_MB * MB, 1000 + run) as unknown as RequestInit['body'],
        duplex: 'half',
      } as RequestInit);
      const element = (await response.json()) as { fileScanResult?: string };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (response.status !== 201) throw new Error(`upload: ${response.status} ${JSON.stringify(element)}`);
      speeds.push(FILE_MB / seconds);
      log(`  ${label} run ${run + 1}: ${(FILE_MB / seconds).toFixed(1)} MB/s (fileScanResult ${element.fileScanResult})`);
    }
    speeds.sort((a, b) => a - b);
    return speeds[Math.floor(speeds.length / 2)] as number;
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
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
    const plain = await uploadThroughput(issuer, {}, log, 'without scanning');
    const scanned = await uploadThroughput(
      issuer,
      { CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(port), CLAMD_STREAM_MAX_MB: String(FILE_MB * 2), CLAMD_TIMEOUT_MS: '60000' },
      log,
      'with scanning',
    );
    return [
      { name: `storage upload ${FILE_MB} MB, not scanned`, value: plain, unit: 'MB/s' },
      { name: `storage upload ${FILE_MB} MB, scanned by clamd while streaming`, value: scanned, unit: 'MB/s' },
      { name: `storage upload ${FILE_MB} MB: scanned / not scanned throughput (goal ≥ 0.8)`, value: scanned / plain, unit: 'ratio' },
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
        `Median of ${RUNS} uploads per side, storage in the bench process on the embedded default. The scanned upload streams`,
        'to clamd alongside the blob write and waits for the verdict at most SCAN_VERDICT_WAIT_MS (200 ms); clamd scans a',
        'stream once it has ended, so a large file is answered Pending and its verdict recorded a moment later.',
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
