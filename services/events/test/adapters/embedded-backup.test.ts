/**
 * The events service's part of `npm run backup`: a snapshot taken while the store is open and written to (as
 * beside the running service) opens as a store of its own with what was committed before it, and only that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupEmbeddedEvents } from '../../src/adapters/embedded-backup';
import { SqliteEventStore } from '../../src/adapters/sqlite-event-store';
import { storedEvent, subscription } from '../contract/event-store.contract';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'events-backup-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

it('snapshots the open store: events, relay position and subscriptions as they were, nothing written after', async () => {
  const live = new SqliteEventStore(join(root, 'data'));
  await live.init();
  await live.events.append([storedEvent(1), storedEvent(2)], 2);
  await live.subscriptions.insert(subscription('sub-1'));

  expect(backupEmbeddedEvents(join(root, 'data'), join(root, 'backup'))).toEqual({ files: ['events.sqlite'] });
  await live.events.append([storedEvent(3)], 3);
  await live.close();

  const restored = new SqliteEventStore(join(root, 'backup'));
  await restored.init();
  try {
    expect(await restored.events.position()).toBe(2);
    expect((await restored.events.list({ after: 0, limit: 10 })).map((event) => event.sequence)).toEqual([1, 2]);
    expect(await restored.subscriptions.get('sub-1')).toMatchObject({ id: 'sub-1' });
  } finally {
    await restored.close();
  }
});

it('refuses a DATA_DIR without the events database, and a backup folder inside DATA_DIR', async () => {
  expect(() => backupEmbeddedEvents(join(root, 'nothing'), join(root, 'backup'))).toThrow(/events\.sqlite does not exist: is DATA_DIR the events service's\?/);
  expect(() => backupEmbeddedEvents(root, join(root, 'backup'))).toThrow(/must be separate \(neither inside the other\)/);
});
