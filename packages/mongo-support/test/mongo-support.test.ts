import { MongoNetworkError, MongoServerError, ObjectId } from 'mongodb';
import { createMongoClient, idForKey, isConnectivityError, isDuplicateKeyError } from '../src';

test('ids are stable per key and differ between keys', () => {
  expect(idForKey('nav/child-benefit')).toBeInstanceOf(ObjectId);
  expect(idForKey('nav/child-benefit').equals(idForKey('nav/child-benefit'))).toBe(true);
  expect(idForKey('nav/child-benefit').equals(idForKey('nav/child-benefit2'))).toBe(false);
});

test('errors are told apart: duplicate key, lost connection, anything else', () => {
  const duplicate = new MongoServerError({ message: 'E11000 duplicate key', code: 11000 });
  const otherServerError = new MongoServerError({ message: 'bad query', code: 2 });
  const network = new MongoNetworkError('connection reset');
  expect([duplicate, otherServerError, network, new Error('x')].map(isDuplicateKeyError)).toEqual([true, false, false, false]);
  expect([duplicate, otherServerError, network, new Error('x')].map(isConnectivityError)).toEqual([false, false, true, false]);
});

test('clients give up on an unreachable database within seconds and keep absent members absent', async () => {
  const client = createMongoClient('mongodb://127.0.0.1:1/?directConnection=true', { serverSelectionTimeoutMS: 300 });
  expect(client.bsonOptions.ignoreUndefined).toBe(true);
  expect(createMongoClient('mongodb://127.0.0.1:1').options.serverSelectionTimeoutMS).toBe(5_000);
  const failure = await client.connect().catch((error: unknown) => error);
  expect(isConnectivityError(failure)).toBe(true);
  await client.close();
});
