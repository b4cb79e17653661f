/**
 * `pnpm bench:scale [counts]`: storage on its embedded default (SQLite) at 100 000 and 1 000 000 instances
 * (or the comma-separated counts given): restart-to-ready time, RSS, a query's page 1 against page 500, and a
 * rare filter (10 instances of all of them waiting in Task_2, spread evenly). Seeding writes straight into the database in large
 * transactions (this measures reading at scale, not creating); the service is then started as deployed.
 * Kept apart from run.ts, which compares the platform with bare Fastify.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { Instance } from '@forms/contracts';
import { SqliteMetadataStore } from '../services/storage/src/adapters/metadata/sqlite/sqlite-metadata-store';
import { TestIssuer } from '../test-support/src';
import { serviceBundles } from './lib/bundles';
import { log, rssMb, startProcess } from './lib/processes';

const APP_ID = 'nav/scale';
const PAGE = 100;

const RARE = 10;

function instanceAt(index: number, start: number, count: number): Instance {
  const guid = randomUUID();
  const partyId = String(50000 + (index % 5000));
  const time = new Date(start + index * 10).toISOString();
  const task = index % Math.floor(count / RARE) === 42 ? 'Task_2' : 'Task_1';
  return {
    id: `${partyId}/${guid}`,
    instanceOwner: { partyId },
    appId: APP_ID,
    org: 'nav',
    selfLinks: { platform: `http://127.0.0.1/storage/api/v1/instances/${partyId}/${guid}` },
    dueBefore: null,
    visibleAfter: null,
    process: { started: time, startEvent: 'StartEvent_1', currentTask: { flow: 2, started: time, elementId: task, name: task, altinnTaskType: 'data', ended: null }, ended: null, endEvent: null },
    status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread', substatus: null },
    completeConfirmations: [],
    data: [],
    dataValues: {},
    version: 1,
    created: time,
    createdBy: partyId,
    lastChanged: time,
    lastChangedBy: partyId,
  };
}

async function seed(dataDir: string, count: number): Promise<void> {
  // Group commit (ADR 0015) puts the inserts of one turn into one transaction: 20 000 per commit here.
  const store = new SqliteMetadataStore(dataDir, { checkAfterUncleanShutdown: false, groupCommit: { maxBatch: 20_000 } });
  await store.init();
  const start = Date.now() - count * 10;
  for (let done = 0; done < count; done += 20_000) {
    const inserts = [];
    for (let index = done; index < Math.min(count, done + 20_000); index += 1) inserts.push(store.instances.insert(instanceAt(index, start, count)));
    await Promise.all(inserts);
    if (done % 200_000 === 0) log(`  seeded ${done}`);
  }
  await store.close();
}

async function timed(url: string, token: string, repeats = 5): Promise<{ ms: number; body: { next: string | null; count: number } }> {
  const times: number[] = [];
  let body: { next: string | null; count: number } = { next: null, count: 0 };
  for (let attempt = 0; attempt < repeats; attempt += 1) {
    const started = process.hrtime.bigint();
    const answer = await request(url, { headers: { authorization: `Bearer ${token}` } });
    body = (await answer.body.json()) as typeof body;
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, body };
}

async function measure(count: number, issuer: TestIssuer): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  try {
    log(`${count} instances: seeding`);
    await seed(dataDir, count);
    const port = String(5300 + Math.floor(Math.random() * 500));
    const env = { DATA_DIR: dataDir, PORT: port, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, LOG_LEVEL: 'warn', REAPER_INTERVAL_SECONDS: '0' };
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    const storage = await startProcess('storage', serviceBundles().server('storage'), { ...env, NODE_PATH: serviceBundles().nodePath('storage') }, `${base}/ready`);
    const readyMs = Date.now() - started;
    try {
      const token = issuer.orgToken({ org: 'nav', scopes: ['altinn:serviceowner/instances.read'] });
      const first = `${base}/storage/api/v1/instances?appId=${APP_ID}&size=${PAGE}`;
      const page1 = await timed(first, token);
      let next = page1.body.next;
      for (let page = 2; page < 500 && next; page += 1) next = (await timed(next, token, 1)).body.next;
      const page500 = next ? await timed(next, token) : undefined;
      const rare = await timed(`${base}/storage/api/v1/instances?appId=${APP_ID}&process.currentTask=Task_2&size=${PAGE}`, token);
      const rss = rssMb(storage.pid);
      return {
        instances: count.toLocaleString('en'),
        'restart to ready': `${readyMs} ms`,
        'storage RSS': `${rss.now.toFixed(0)} MB (peak ${rss.peak.toFixed(0)})`,
        'page 1': `${page1.ms.toFixed(1)} ms`,
        'page 500': page500 ? `${page500.ms.toFixed(1)} ms (${(page500.ms / page1.ms).toFixed(2)}x)` : 'fewer pages',
        'rare filter': `${rare.ms.toFixed(1)} ms, ${rare.body.count} found (${(rare.ms / page1.ms).toFixed(2)}x)`,
      };
    } finally {
      await storage.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const counts = (process.argv[2] ?? '100000,1000000').split(',').map(Number);
  const issuer = await TestIssuer.start();
  try {
    const rows = [];
    for (const count of counts) rows.push(await measure(count, issuer));
    const columns = Object.keys(rows[0] ?? {});
    console.log(`| ${columns.join(' | ')} |\n| ${columns.map(() => '---').join(' | ')} |`);
    for (const row of rows) console.log(`| ${columns.map((column) => row[column]).join(' | ')} |`);
  } finally {
    await issuer.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
