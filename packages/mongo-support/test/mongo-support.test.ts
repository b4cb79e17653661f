import { MongoNetworkError, MongoServerError, ObjectId } from 'mongodb';
import { idForKey, isConnectivityError, isDuplicateKeyError } from '../src';

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
