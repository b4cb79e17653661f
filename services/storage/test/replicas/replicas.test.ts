/**
 * Three storage replicas as real processes on one MongoDB and one S3 (the CongoServer and s3rver stand-ins, or
 * MONGODB_URL), behave as one (docs/adr/0013-order-across-replicas.md). During a burst of instantiations spread
 * over all replicas, one of which runs its clock 2 s behind and one of which is SIGKILLed mid-burst, a reader
 * follows the query with continuation tokens, switching replica on every request: it must see every acknowledged
 * instance exactly once and in one order, the order a full walk gives afterwards. Concurrent writers without
 * If-Match through different replicas all land, and a repeated confirmation changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageClient } from '@forms/client';
import { Scopes, type Instance } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { SAMPLE_APP } from '../support/storage-harness';
import { StorageProcess } from '../support/storage-process';

jest.setTimeout(180_000);

const APP = 'nav/sample-app';
/** Short, so that the reader waits only briefly behind the writes the killed replica left in flight. */
const LEASE_MS = 2_000;
const BURST_MS = 14_000;
const TARGET = 400;

describe('three storage replicas on one MongoDB and one S3', () => {
  let issuer: TestIssuer;
  let dataDir: string;
  const replicas: StorageProcess[] = [];
  const clients: StorageClient[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    dataDir = mkdtempSync(join(tmpdir(), 'storage-replicas-'));
    const unique = randomUUID().slice(0, 8);
    const mongoUrl = process.env.TEST_MONGODB_URL;
    const s3Endpoint = process.env.TEST_S3_ENDPOINT;
    if (!mongoUrl || !s3Endpoint) throw new Error('TEST_MONGODB_URL and TEST_S3_ENDPOINT are not set (jest globalSetup starts them)');
    const env = (index: number): Record<string, string> => ({
      // Each replica its own DATA_DIR, as on separate machines: only the shared stores connect them.
      DATA_DIR: join(dataDir, `replica-${index}`),
      JWKS_URL: issuer.jwksUrl,
      TOKEN_ISSUER: issuer.issuer,
      MONGODB_URL: mongoUrl,
      MONGODB_DATABASE: `replicas_${unique}`,
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: `replicas-${unique}`,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      REPLICAS: '3',
      PUBLIC_URL: 'http://storage.replicas.test',
      REAPER_INTERVAL_SECONDS: '0',
      SEQUENCE_LEASE_MS: String(LEASE_MS),
      // The third replica's clock runs 2 s behind the others.
      ...(index === 2 && { CLOCK_OFFSET_MS: '-2000' }),
    });
    // The first creates the bucket and the counters; the other two join it.
    replicas.push(await StorageProcess.start(env(0)));
    replicas.push(...(await Promise.all([StorageProcess.start(env(1)), StorageProcess.start(env(2))])));
    const appToken = issuer.appToken({ app: APP });
    for (const replica of replicas) {
      clients.push(new StorageClient({ baseUrl: replica.baseUrl, timeoutMs: 20_000, accessToken: async () => appToken }));
    }
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.kill();
    await issuer?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const nav = () => issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
  const party = (index: number) =>
    issuer.userToken({ userId: 3000 + index, partyId: String(70000 + index), scopes: [Scopes.instancesRead, Scopes.instancesWrite] });

  it('gives a reader that follows the query every acknowledged instance once, in one order, through skew and a kill', async () => {
    const client = (index: number) => clients[index] as StorageClient;
    await client(0).registerApplication(nav(), APP, SAMPLE_APP);
    const dead = new Set<number>();
    const alive = (start: number): number[] => [0, 1, 2].map((offset) => (start + offset) % 3).filter((index) => !dead.has(index));

    // Writers: nine, each sending every creation to the next replica in turn.
    const acknowledged = new Map<string, number>();
    let stop = false;
    const writer = async (worker: number) => {
      for (let round = 0; !stop && acknowledged.size < TARGET; round += 1) {
        const [replica] = alive(worker + round);
        if (replica === undefined) return;
        const partyIndex = worker % 5;
        try {
          const instance = await client(replica).createInstance(
            party(partyIndex),
            APP,
            { instanceOwner: { partyId: String(70000 + partyIndex) }, instanceGuid: randomUUID() },
            [{ dataType: 'model', contentType: 'application/json', body: JSON.stringify({ worker, round }) }],
          );
          acknowledged.set(instance.id, replica);
        } catch {
          // Cut off by the kill (not acknowledged): it may or may not exist, and the reader may see it once.
        }
      }
    };

    // The reader: a continuation token per page, every request to the next live replica. A page that is not full has
    // no `next`, so the reader asks again with the token of that page and must get what it saw before as its prefix.
    const seen: string[] = [];
    let token: string | undefined;
    let consumedOfPage = 0;
    let request = 0;
    const readOnce = async (): Promise<number> => {
      const [replica] = alive(request++);
      const page = await client(replica as number).queryInstances(nav(), { appId: APP, order: 'asc:lastChanged', size: 40, ...(token && { continuationToken: token }) });
      const ids = page.instances.map((instance: Instance) => instance.id);
      expect(ids.slice(0, consumedOfPage)).toEqual(seen.slice(seen.length - consumedOfPage));
      const fresh = ids.slice(consumedOfPage);
      seen.push(...fresh);
      if (page.next) {
        token = new URL(page.next).searchParams.get('continuationToken') ?? undefined;
        consumedOfPage = 0;
      } else {
        consumedOfPage = ids.length;
      }
      return fresh.length;
    };
    const reader = (async () => {
      while (!stop) {
        // A request the kill cut off is asked again of the next replica.
        await readOnce().catch((error: unknown) => {
          if ((error as { kind?: string }).kind !== 'unavailable') throw error;
        });
        await new Promise((wait) => setTimeout(wait, 25));
      }
    })();

    const started = Date.now();
    const writers = Array.from({ length: 9 }, (_, worker) => writer(worker));
    // Kill the second replica once the burst is well under way: SIGKILL, requests in flight cut off.
    while (acknowledged.size < 60 && Date.now() - started < 8_000) await new Promise((wait) => setTimeout(wait, 20));
    dead.add(1);
    await replicas[1]?.kill();
    const killedAt = acknowledged.size;
    // The burst goes on for a while after the kill, on the two replicas left.
    const burstEnd = setTimeout(() => (stop = true), Math.max(6_000, BURST_MS - (Date.now() - started)));
    await Promise.all(writers);
    clearTimeout(burstEnd);
    stop = true;
    await reader;

    // Caught up: the reader goes on until it has every acknowledged instance (the killed replica's writes in flight
    // hold it back for at most the lease) and then finds nothing more.
    const deadline = Date.now() + 30_000;
    const missing = () => [...acknowledged.keys()].filter((id) => !seen.includes(id));
    while (missing().length > 0 && Date.now() < deadline) {
      await readOnce();
      await new Promise((wait) => setTimeout(wait, 50));
    }
    await new Promise((wait) => setTimeout(wait, LEASE_MS));
    await readOnce();

    expect(killedAt).toBeGreaterThan(20);
    expect(acknowledged.size).toBeGreaterThan(killedAt + 20);
    expect([...acknowledged.values()].filter((replica) => replica === 2).length).toBeGreaterThan(0);
    expect(missing()).toEqual([]);
    expect(new Set(seen).size).toBe(seen.length);
    // One order for everybody: what a full walk gives now is what the reader saw while the instances arrived.
    const walked: string[] = [];
    for await (const instance of client(0).queryAllInstances(nav(), { appId: APP, size: 100 })) walked.push(instance.id);
    expect(walked).toEqual(seen);
  });

  it('merges concurrent writes without If-Match through different replicas, and a repeated confirmation changes nothing', async () => {
    const live = [0, 2];
    const owner = party(9);
    const instance = await (clients[0] as StorageClient).createInstance(
      owner,
      APP,
      { instanceOwner: { partyId: String(70009) }, instanceGuid: randomUUID() },
      [{ dataType: 'model', contentType: 'application/json', body: '{}' }],
    );
    const writes = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => (clients[live[i % 2] as number] as StorageClient).setDataValues(owner, instance.id, { [`key${i}`]: String(i) })),
    );
    expect(writes.filter((write) => write.status === 'rejected')).toEqual([]);
    const merged = (await (clients[2] as StorageClient).getInstance(owner, instance.id)).value;
    expect(Object.keys(merged.dataValues ?? {})).toHaveLength(60);
    expect(merged.version).toBe(instance.version + 60);
    // The replica 2 s behind stamped some of these: none is earlier than the instance's creation, and the events
    // list Created first.
    expect(merged.lastChanged >= instance.lastChanged).toBe(true);
    const events = await (clients[2] as StorageClient).listEvents(owner, instance.id);
    expect(events[0]?.eventType).toBe('Created');

    const confirmations = await Promise.all(Array.from({ length: 6 }, (_, i) => (clients[live[i % 2] as number] as StorageClient).confirmComplete(nav(), instance.id)));
    expect(new Set(confirmations.map((confirmed) => confirmed.version))).toEqual(new Set([merged.version + 1]));
    expect(await (clients[0] as StorageClient).listEvents(nav(), instance.id, { eventTypes: ['ConfirmedComplete'] })).toHaveLength(1);
  });
});
