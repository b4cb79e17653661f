/**
 * What the MongoDB stores rely on, checked by behaviour against a MongoDB wire-protocol server (CongoServer from
 * jest's global setup, or a real MongoDB with MONGODB_URL): documents as stored and read back, the errors the
 * driver really raises, and how long an unreachable database takes to be reported.
 */
import { randomUUID } from 'node:crypto';
import { MongoNetworkError, MongoServerError, ObjectId, type MongoClient } from 'mongodb';
import { createMongoClient, idForKey, isConnectivityError, isDuplicateKeyError } from '../src';

const url = () => {
  const value = process.env.TEST_MONGODB_URL;
  if (!value) throw new Error('TEST_MONGODB_URL is not set: run the tests through jest');
  return value;
};

let client: MongoClient;
beforeAll(async () => {
  client = createMongoClient(url());
  await client.connect();
});
afterAll(() => client.close());

const collection = () => client.db(`mongo_support_${randomUUID().slice(0, 8)}`).collection<{ _id: ObjectId; [key: string]: unknown }>('docs');

test('ids are stable per key and differ between keys', () => {
  expect(idForKey('nav/child-benefit')).toBeInstanceOf(ObjectId);
  expect(idForKey('nav/child-benefit').equals(idForKey('nav/child-benefit'))).toBe(true);
  expect(idForKey('nav/child-benefit').equals(idForKey('nav/child-benefit2'))).toBe(false);
});

test('an absent optional member stays absent in the stored document, not null', async () => {
  const docs = collection();
  const _id = idForKey('absent');
  await docs.insertOne({ _id, kept: 1, absent: undefined });
  const stored = await docs.findOne({ _id });
  expect(stored).toEqual({ _id, kept: 1 });
  expect(stored && 'absent' in stored).toBe(false);
});

test('a second document with the same key is the duplicate-key error the stores rely on; other failures are not', async () => {
  const docs = collection();
  await docs.insertOne({ _id: idForKey('twice'), n: 1 });
  const duplicate = await docs.insertOne({ _id: idForKey('twice'), n: 2 }).catch((error: unknown) => error);
  expect(duplicate).toBeInstanceOf(MongoServerError);
  expect(isDuplicateKeyError(duplicate)).toBe(true);
  expect(isConnectivityError(duplicate)).toBe(false);
  expect(await docs.countDocuments({ _id: idForKey('twice') })).toBe(1);

  const otherServerError = new MongoServerError({ message: 'bad query', code: 2 });
  expect([otherServerError, new MongoNetworkError('connection reset'), new Error('x')].map(isDuplicateKeyError)).toEqual([false, false, false]);
});

test('an unreachable database is a connectivity error within seconds, not after the driver default of 30 s', async () => {
  const unreachable = createMongoClient('mongodb://127.0.0.1:1/?directConnection=true');
  const started = Date.now();
  const failure = await unreachable.connect().catch((error: unknown) => error);
  const elapsed = Date.now() - started;
  await unreachable.close();
  expect(isConnectivityError(failure)).toBe(true);
  // The platform's 5 s server selection timeout, not 30 s: well below one and at least most of the other.
  expect(elapsed).toBeGreaterThanOrEqual(4_000);
  expect(elapsed).toBeLessThan(20_000);
  // A lost connection to a database that was reachable is one too.
  const connected = createMongoClient(url());
  await connected.connect();
  await connected.close();
  const closed = await connected.db('x').collection('y').findOne({}).catch((error: unknown) => error);
  expect(isConnectivityError(closed)).toBe(true);
}, 30_000);
