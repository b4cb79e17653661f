/**
 * Storage's SQLite store on group commit (ADR 0015): a write is answered only after the log is synced; until then
 * the event feed stops before it (the durable watermark) and a query that finds it waits for the sync, so no reader
 * passes a sequence that a power cut could take back and hand out again, and no instance drops out of a listing
 * while a change of it syncs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/adapters/metadata/sqlite/sqlite-metadata-store';
import { at, buildEvent, buildInstance, guidOf } from '../contract/test-data';

let directory: string;
let store: SqliteMetadataStore;
let heldSyncs: (() => void)[] = [];
let holding = false;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'storage-group-commit-'));
  holding = false;
  heldSyncs = [];
  store = new SqliteMetadataStore(directory, {
    groupCommit: {
      // The real sync, held back while `holding`: the write is committed (visible to SQLite) but not yet durable.
      syncFile: async () => {
        if (holding) await new Promise<void>((release) => heldSyncs.push(release));
      },
    },
  });
  await store.init();
});
afterEach(async () => {
  holding = false;
  for (const release of heldSyncs) release();
  await store.close();
  await rm(directory, { recursive: true, force: true });
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('until the sync returns, the feed stops before a write and queries that find it wait; then all of it is answered', async () => {
  const first = buildInstance({ appId: 'acme/tax' });
  const changing = buildInstance({ appId: 'acme/tax' });
  await store.instances.insert(first, { events: [buildEvent(first, 'Created', at(0))] });
  await store.instances.insert(changing, { events: [buildEvent(changing, 'Created', at(0))] });

  holding = true;
  const second = buildInstance({ appId: 'acme/tax' });
  let answered = false;
  const writing = Promise.all([
    store.instances.insert(second, { events: [buildEvent(second, 'Created', at(1))] }),
    // A change of an instance that was durable already: it must not drop out of a listing while the change syncs.
    store.instances.replace({ ...changing, version: 2, lastChanged: at(1) }, 1),
  ]).then(() => (answered = true));
  await settle();

  expect(answered).toBe(false);
  expect(store.database.prepare('SELECT count(*) FROM instances').pluck().get()).toBe(3); // committed
  expect((await store.events.feed({ after: 0, limit: 100 })).map((event) => event.instanceId)).toEqual([first.id, changing.id]);
  const pages = [
    store.instances.query({ appIds: ['acme/tax'], limit: 100 }),
    store.instances.query({ appIds: ['acme/tax'], limit: 100, descending: true }),
    store.instances.query({ appIds: ['acme/tax'], limit: 1, descending: true }),
  ];
  let paged = false;
  void Promise.all(pages).then(() => (paged = true));
  await settle();
  expect(paged).toBe(false);
  // A query that finds only durable rows does not wait.
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 1 })).map(guidOf)).toEqual([guidOf(first)]);

  holding = false;
  for (const release of heldSyncs.splice(0)) release();
  await writing;
  expect(answered).toBe(true);
  const [oldestFirst, newestFirst, newest] = await Promise.all(pages);
  expect(oldestFirst?.map(guidOf)).toEqual([guidOf(first), guidOf(second), guidOf(changing)]);
  expect(newestFirst?.map(guidOf)).toEqual([guidOf(changing), guidOf(second), guidOf(first)]);
  expect(newestFirst?.[0]?.version).toBe(2);
  expect(newest?.map(guidOf)).toEqual([guidOf(changing)]);
  expect((await store.events.feed({ after: 0, limit: 100 })).map((event) => event.instanceId)).toEqual([first.id, changing.id, second.id]);
});

test('a query that waits for a sync that fails answers 503, not the rows a power cut could take back', async () => {
  await store.close();
  const failing = new SqliteMetadataStore(directory, {
    groupCommit: {
      syncFile: async () => {
        if (holding) await new Promise<void>((_resolve, reject) => heldSyncs.push(() => reject(new Error('EIO: the disk went away'))));
      },
    },
  });
  await failing.init();
  store = failing;
  holding = true;
  const lost = buildInstance({ appId: 'acme/tax' });
  const writing = store.instances.insert(lost, {}).catch((error: unknown) => error);
  await settle();
  const query = store.instances.query({ appIds: ['acme/tax'], limit: 100 }).catch((error: unknown) => error);
  await settle();
  holding = false;
  for (const fail of heldSyncs.splice(0)) fail();
  expect(await writing).toMatchObject({ kind: 'unavailable' });
  expect(await query).toMatchObject({ kind: 'unavailable' });
});

test('writes of one batch each get their own outcome: a duplicate, a stale version, a good replace', async () => {
  const instances = Array.from({ length: 30 }, () => buildInstance({ appId: 'acme/tax' }));
  await Promise.all(instances.map((instance) => store.instances.insert(instance, { events: [buildEvent(instance, 'Created', at(0))] })));
  const duplicate = store.instances.insert(instances[0]!, {}).catch((error: unknown) => error);
  const stale = store.instances.replace({ ...instances[1]!, version: 9 }, 7);
  const fine = store.instances.replace({ ...instances[2]!, version: 2 }, 1);
  expect(await duplicate).toMatchObject({ name: 'DuplicateKeyError' });
  expect(await stale).toBe(false);
  expect(await fine).toBe(true);
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 100 })).length).toBe(30);
});
