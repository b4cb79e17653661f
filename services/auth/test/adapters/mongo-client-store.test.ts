import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { ClientStore } from '../../src/domain/ports/client-store';
import { MongoClientStore } from '../../src/adapters/mongo-client-store';
import { describeClientStoreContract } from '../contract/client-store.contract';

const mongoUrl = process.env.TEST_MONGODB_URL;
if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set (jest globalSetup starts a test server)');

// Every store gets a database of its own under a prefix unique to this run; all are dropped afterwards.
const prefix = `auth_contract_${randomBytes(4).toString('hex')}`;
let count = 0;
const databases = new Map<ClientStore, string>();

async function openStore(database: string): Promise<MongoClientStore> {
  const store = new MongoClientStore(mongoUrl as string, database);
  await store.init();
  databases.set(store, database);
  return store;
}

describeClientStoreContract('MongoClientStore', {
  createEmpty: () => openStore(`${prefix}_${(count += 1)}`),
  reopen: (store) => {
    const database = databases.get(store);
    if (!database) throw new Error('store was not created by this target');
    return openStore(database);
  },
  sharedBetweenProcesses: true,
  cleanup: async () => {
    const client = new MongoClient(mongoUrl as string);
    try {
      for (const name of new Set(databases.values())) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
    databases.clear();
  },
});

describe('MongoClientStore', () => {
  it('reports unavailable when the server cannot be reached', async () => {
    const store = new MongoClientStore('mongodb://127.0.0.1:9', `${prefix}_unreachable`, { serverSelectionTimeoutMS: 300 });
    try {
      await expect(store.init()).rejects.toMatchObject({ kind: 'unavailable', code: 'CLIENT_STORE_UNAVAILABLE' });
    } finally {
      await store.close();
    }
  });
});
