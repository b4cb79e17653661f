/**
 * Storage's SQLite store on group commit (ADR 0015): a write is answered only after the log is synced, and
 * until then queries and the event feed stop before it (the durable watermark), so no reader passes a sequence
 * that a power cut could take back and hand out again.
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

test('queries and the feed stop at the durable watermark until the sync returns; then the write is answered and seen', async () => {
  const first = buildInstance({ appId: 'acme/tax' });
  await store.instances.insert(first, { events: [buildEvent(first, 'Created', at(0))] });

  holding = true;
  const second = buildInstance({ appId: 'acme/tax' });
  let answered = false;
  const writing = store.instances.insert(second, { events: [buildEvent(second, 'Created', at(1))] }).then(() => (answered = true));
  await settle();

  expect(answered).toBe(false);
  expect(store.database.prepare('SELECT count(*) FROM instances').pluck().get()).toBe(2); // committed
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 100 })).map(guidOf)).toEqual([guidOf(first)]);
  expect((await store.events.feed({ after: 0, limit: 100 })).map((event) => event.instanceId)).toEqual([first.id]);
  // Newest first as well: the write not yet durable is left out, and what is below it still comes, with room for a
  // page as full as asked (not an empty page because the newest row stands above the watermark).
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 100, descending: true })).map(guidOf)).toEqual([guidOf(first)]);
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 1, descending: true })).map(guidOf)).toEqual([guidOf(first)]);

  holding = false;
  for (const release of heldSyncs.splice(0)) release();
  await writing;
  expect(answered).toBe(true);
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 100 })).map(guidOf)).toEqual([guidOf(first), guidOf(second)]);
  expect((await store.instances.query({ appIds: ['acme/tax'], limit: 100, descending: true })).map(guidOf)).toEqual([guidOf(second), guidOf(first)]);
  expect((await store.events.feed({ after: 0, limit: 100 })).map((event) => event.instanceId)).toEqual([first.id, second.id]);
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
