import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { MetadataStore } from '../../src/domain/ports/metadata-store';
import { MongoMetadataStore } from '../../src/adapters/metadata/mongo-metadata-store';
import { describeMetadataStoreContract } from '../contract/metadata-store.contract';
import { at, buildEvent, buildInstance, buildPendingUpload, guidOf } from '../contract/test-data';
import { idForKey } from '@forms/mongo-support';

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
          { appId: 1, _seq: 1 },
          { org: 1, _seq: 1 },
          { 'instanceOwner.partyId': 1, _seq: 1 },
          { _seq: 1 },
        ]),
      );
      expect(await keysOf('instanceEvents')).toEqual(
        expect.arrayContaining([{ instanceId: 1, created: 1, _key: 1 }, { _seq: 1, _key: 1 }, { _appId: 1, _seq: 1, _key: 1 }]),
      );
      expect(await keysOf('pendingUploads')).toEqual(expect.arrayContaining([{ started: 1, _key: 1 }]));
    } finally {
      await client.close();
      await store.close();
    }
  });
});

describe('MongoMetadataStore outbox: a write interrupted between the instance document and its copies', () => {
  it('shows outboxed events, never overwrites them, and moves them out on the next start', async () => {
    const databaseName = `${databasePrefix}_outbox`;
    const store = await openStore(databaseName);
    const client = new MongoClient(mongoUrl as string);
    try {
      const instance = buildInstance({ version: 1 });
      const createdEvent = buildEvent(instance, 'Created', at(0), '00000000-0000-4000-8000-000000000001');
      const upload = { ...buildPendingUpload(at(0)), instanceGuid: guidOf(instance) };
      // What a crash right after the instance's insertOne leaves: the document with its outbox, no copies.
      const key = guidOf(instance);
      await client.db(databaseName).collection('instances').insertOne({
        ...instance,
        _id: idForKey(key),
        _key: key,
        _seq: 900,
        _outbox: { events: [createdEvent], pendingUploads: [upload], settledUploads: [] },
        _outboxAt: at(0),
      });
      expect(await store.instances.get(key)).toEqual(instance);
      expect(await store.events.list(instance.id, {})).toEqual([createdEvent]);
      expect(await store.events.get(instance.id, createdEvent.id)).toEqual(createdEvent);

      const saved = buildEvent(instance, 'Saved', at(1), '00000000-0000-4000-8000-000000000002');
      expect(await store.instances.replace({ ...instance, version: 2, lastChanged: at(1) }, 1, { events: [saved] })).toBe(true);
      expect(await store.events.list(instance.id, {})).toEqual([createdEvent, saved]);
      expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([upload]);

      // Another interrupted write, drained by the next start.
      const other = buildInstance();
      const otherCreated = buildEvent(other, 'Created', at(0));
      await client.db(databaseName).collection('instances').insertOne({
        ...other,
        _id: idForKey(guidOf(other)),
        _key: guidOf(other),
        _seq: 901,
        _outbox: { events: [otherCreated], pendingUploads: [], settledUploads: [] },
        _outboxAt: at(0),
      });
      await store.close();
      const logged: string[] = [];
      const restarted = new MongoMetadataStore(mongoUrl as string, databaseName);
      await restarted.init((_level, message) => logged.push(message));
      try {
        expect(logged).toEqual(['moved the outboxes an interrupted write left in instance documents']);
        const copied = await client.db(databaseName).collection('instanceEvents').find({ instanceId: other.id }).toArray();
        expect(copied.map((event) => event.id)).toEqual([otherCreated.id]);
        expect(await client.db(databaseName).collection('instances').countDocuments({ _outboxAt: { $exists: true } })).toBe(0);
        expect(await restarted.events.list(other.id, {})).toEqual([otherCreated]);
        expect(await restarted.instances.get(guidOf(other))).toEqual(other);
      } finally {
        await restarted.close();
      }
    } finally {
      await client.close();
      await store.close();
    }
  });
});
