import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoEventStore } from '../../src/adapters/mongo-event-store';
import type { EventStore } from '../../src/domain/ports/event-store';
import { describeEventStoreContract } from '../contract/event-store.contract';

const mongoUrl = process.env.TEST_MONGODB_URL;
if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set (jest globalSetup starts a test server)');

const prefix = `events_contract_${randomBytes(4).toString('hex')}`;
let count = 0;
const databases = new Map<EventStore, string>();

async function openStore(database: string): Promise<EventStore> {
  const store = new MongoEventStore(mongoUrl as string, database);
  await store.init();
  databases.set(store, database);
  return store;
}

describeEventStoreContract('MongoEventStore', {
  createEmpty: () => openStore(`${prefix}_${(count += 1)}`),
  reopen: (closed) => openStore(databases.get(closed) as string),
  cleanup: async () => {
    const client = new MongoClient(mongoUrl as string);
    try {
      for (const name of new Set(databases.values())) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  },
});
