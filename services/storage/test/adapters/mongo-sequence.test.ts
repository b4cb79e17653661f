import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { idForKey } from '@forms/mongo-support';
import { MongoMetadataStore } from '../../src/adapters/metadata/mongo-metadata-store';
import { MongoSequence } from '../../src/adapters/metadata/mongo-sequence';
import { at, buildEvent, buildInstance, guidOf } from '../contract/test-data';

const mongoUrl = process.env.TEST_MONGODB_URL;
if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set (jest globalSetup starts a test server)');

/**
 * The committed watermark on MongoDB (mongo-sequence.ts): what the contract suite cannot show with one
 * store, a write in flight on another replica, one abandoned by a replica that died, and one that finished late.
 */
describe('MongoMetadataStore write sequence across replicas', () => {
  const databaseName = `sequence_${randomBytes(4).toString('hex')}`;
  const client = new MongoClient(mongoUrl as string);
  const stores: MongoMetadataStore[] = [];
  const openReplica = async (sequenceLeaseMs = 10_000) => {
    const store = new MongoMetadataStore(mongoUrl as string, databaseName, {}, { sequenceLeaseMs });
    await store.init();
    stores.push(store);
    return store;
  };
  /** What another replica does in the middle of a write: a sequence reserved on the same counter. */
  const otherReplica = (leaseMs: number) => new MongoSequence(client.db(databaseName).collection('counters'), leaseMs);

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await client.db(databaseName).dropDatabase();
  });
  afterAll(() => client.close());

  it('holds readers below a write still in flight, then shows everything after it in order', async () => {
    const store = await openReplica();
    const first = buildInstance();
    await store.instances.insert(first, { events: [buildEvent(first, 'Created', at(0))] });
    const inFlight = await otherReplica(10_000).reserve();
    const second = buildInstance();
    await store.instances.insert(second, { events: [buildEvent(second, 'Created', at(1))] });
    // The second write is acknowledged, but a reader that took it would pass the one still in flight.
    expect((await store.instances.query({ limit: 10 })).map(guidOf)).toEqual([guidOf(first)]);
    expect((await store.events.feed({ after: 0, limit: 10 })).map((event) => event.instanceId)).toEqual([first.id]);
    await otherReplica(10_000).release(inFlight);
    expect((await store.instances.query({ limit: 10 })).map(guidOf)).toEqual([guidOf(first), guidOf(second)]);
    expect(await store.events.feed({ after: 0, limit: 10 })).toHaveLength(2);
  });

  it('passes a reservation abandoned by a replica that died once its lease ran out (database time)', async () => {
    const store = await openReplica(300);
    await otherReplica(300).reserve();
    const instance = buildInstance();
    await store.instances.insert(instance);
    expect(await store.instances.query({ limit: 10 })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.instances.query({ limit: 10 })).toEqual([instance]);
  });

  it('moves a write that finished after its lease to a fresh sequence, so a reader that passed it still sees it', async () => {
    const store = await openReplica(200);
    const sequence = otherReplica(200);
    const instance = buildInstance();
    const reservation = await sequence.reserve();
    // A write so slow that readers have passed its sequence.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const passed = await store.instances.querySequenced({ limit: 10 });
    expect(passed).toEqual([]);
    const watermark = await sequence.watermark();
    expect(watermark).toBeGreaterThanOrEqual(reservation.sequence);
    await client.db(databaseName).collection('instances').insertOne({ ...instance, _key: guidOf(instance), _seq: reservation.sequence });
    expect(await sequence.release(reservation)).toBe(false);

    // A write that outlives its lease is moved past what readers passed before it is acknowledged.
    const moves: [number, number][] = [];
    let passedDuringWrite = 0;
    await sequence.write(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        passedDuringWrite = await sequence.watermark();
      },
      async (from, to) => {
        moves.push([from, to]);
      },
    );
    expect(moves.length).toBeGreaterThanOrEqual(1);
    expect((moves.at(-1) as [number, number])[1]).toBeGreaterThan(passedDuringWrite);
  });

  it('numbers the documents of an earlier release in their old order at start-up, events with their app', async () => {
    const early = buildInstance({ appId: 'acme/tax', lastChanged: at(1) });
    const late = buildInstance({ appId: 'acme/tax', lastChanged: at(5) });
    const created = buildEvent(early, 'Created', at(1));
    const db = client.db(databaseName);
    for (const instance of [late, early]) await db.collection('instances').insertOne({ ...instance, _id: idForKey(guidOf(instance)), _key: guidOf(instance) });
    await db.collection('instanceEvents').insertOne({ ...created, _id: idForKey(created.id), _key: created.id });
    const store = await openReplica();
    expect((await store.instances.query({ limit: 10 })).map(guidOf)).toEqual([guidOf(early), guidOf(late)]);
    expect(await store.events.feed({ after: 0, limit: 10 })).toEqual([{ ...created, sequence: expect.any(Number), appId: 'acme/tax' }]);
    const newest = buildInstance({ lastChanged: at(0) });
    await store.instances.insert(newest);
    expect((await store.instances.query({ limit: 10 })).map(guidOf)).toEqual([early, late, newest].map(guidOf));
  });

  it('gives concurrent writers on two replicas distinct sequences, and a reader every write once', async () => {
    const [one, two] = [await openReplica(), await openReplica()];
    const instances = Array.from({ length: 40 }, () => buildInstance());
    const seen: string[] = [];
    let after = 0;
    const follow = async () => {
      const rows = await one.instances.querySequenced({ after: { sequence: after }, limit: 7 });
      seen.push(...rows.map((row) => guidOf(row.instance)));
      after = rows.at(-1)?.sequence ?? after;
    };
    await Promise.all([
      ...instances.map((instance, index) => ((index % 2 === 0 ? one : two) as MongoMetadataStore).instances.insert(instance)),
      (async () => {
        for (let round = 0; round < 20; round += 1) await follow();
      })(),
    ]);
    for (let round = 0; round < 10; round += 1) await follow();
    expect([...seen].sort()).toEqual(instances.map(guidOf).sort());
    const sequences = (await two.instances.querySequenced({ limit: 100 })).map((row) => row.sequence);
    expect(new Set(sequences).size).toBe(40);
  });
});
