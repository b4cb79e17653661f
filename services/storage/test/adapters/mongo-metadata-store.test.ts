import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { MetadataStore } from '../../src/domain/ports/metadata-store';
import { MongoMetadataStore } from '../../src/adapters/metadata/mongo-metadata-store';
import { describeMetadataStoreContract } from '../contract/metadata-store.contract';

const mongoUrl = process.env.TEST_MONGODB_URL;
if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set (jest globalSetup starts a test server)');

// Each store in this file gets an empty database of its own under a prefix unique to this run;
// all are dropped after the suite.
const databasePrefix = `metadata_contract_${randomBytes(4).toString('hex')}`;
let databaseCount = 0;
const databaseNames = new Map<MetadataStore, string>();

async function openStore(databaseName: string): Promise<MongoMetadataStore> {
  const store = new MongoMetadataStore(mongoUrl as string, databaseName);
  await store.init();
  databaseNames.set(store, databaseName);
  return store;
}

async function dropDatabases(): Promise<void> {
  const client = new MongoClient(mongoUrl as string);
  try {
    for (const name of new Set(databaseNames.values())) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
  databaseNames.clear();
}

describeMetadataStoreContract('MongoMetadataStore', {
  createEmpty: () => openStore(`${databasePrefix}_${(databaseCount += 1)}`),
  reopen: (closedStore) => {
    const databaseName = databaseNames.get(closedStore);
    if (!databaseName) throw new Error('store was not created by this target');
    return openStore(databaseName);
  },
  cleanup: dropDatabases,
});

describe('MongoMetadataStore', () => {
  it('reports unavailable when the server cannot be reached', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const store = new MongoMetadataStore('mongodb://127.0.0.1:9', `${databasePrefix}_unreachable`, { serverSelectionTimeoutMS: 300 });
    try {
      await expect(store.init()).rejects.toMatchObject({ kind: 'unavailable', code: 'METADATA_STORE_UNAVAILABLE' });
      await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable' });
    } finally {
      await store.close();
    }
  });

  it('creates an index for each query pattern', async () => {
    const store = await openStore(`${databasePrefix}_indexes`);
    const client = new MongoClient(mongoUrl as string);
    try {
      const db = client.db(`${databasePrefix}_indexes`);
      const keysOf = async (collection: string) => (await db.collection(collection).indexes()).map((index) => index.key);
      expect(await keysOf('instances')).toEqual(
        expect.arrayContaining([
          { appId: 1, lastChanged: 1, _key: 1 },
          { org: 1, lastChanged: 1, _key: 1 },
          { 'instanceOwner.partyId': 1, lastChanged: 1, _key: 1 },
        ]),
      );
      expect(await keysOf('instanceEvents')).toEqual(expect.arrayContaining([{ instanceId: 1, created: 1, _key: 1 }]));
      expect(await keysOf('pendingUploads')).toEqual(expect.arrayContaining([{ started: 1, _key: 1 }]));
    } finally {
      await client.close();
      await store.close();
    }
  });
});
