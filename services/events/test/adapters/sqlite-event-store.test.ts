import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/sqlite-event-store';
import type { EventStore } from '../../src/domain/ports/event-store';
import { describeEventStoreContract } from '../contract/event-store.contract';

const directories = new Map<EventStore, string>();

async function openStore(directory: string): Promise<EventStore> {
  const store = new SqliteEventStore(directory);
  await store.init();
  directories.set(store, directory);
  return store;
}

describeEventStoreContract('SqliteEventStore', {
  createEmpty: async () => openStore(await mkdtemp(join(tmpdir(), 'events-store-'))),
  reopen: async (closed) => openStore(directories.get(closed) as string),
  cleanup: async () => {
    for (const directory of new Set(directories.values())) await rm(directory, { recursive: true, force: true });
  },
});
