import { createHash } from 'node:crypto';
import {
  MongoClient,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  ObjectId,
  type MongoClientOptions,
} from 'mongodb';

/**
 * A driver client with the settings every store of the platform relies on: a database that cannot be reached
 * is reported within seconds (as unavailable) instead of after the driver's 30 s default, and an absent
 * optional member stays absent rather than coming back as null.
 */
export const createMongoClient = (url: string, options: MongoClientOptions = {}): MongoClient =>
  new MongoClient(url, { serverSelectionTimeoutMS: 5_000, ignoreUndefined: true, ...options });

/**
 * `_id` for a natural key: the first 12 bytes of its SHA-256. Uniqueness rests on `_id` alone (not on unique
 * secondary indexes, which the test stand-in does not enforce), and that stand-in only accepts ObjectId `_id`s.
 * Documents keep the key itself in `_key`, and lookups match both.
 */
export const idForKey = (key: string): ObjectId => new ObjectId(createHash('sha256').update(key).digest().subarray(0, 12));

const DUPLICATE_KEY_CODE = 11000;

export const isDuplicateKeyError = (error: unknown): boolean => error instanceof MongoServerError && error.code === DUPLICATE_KEY_CODE;

/** Driver errors that mean "cannot reach the database" rather than "the request was wrong". */
const CONNECTIVITY_ERRORS = [
  MongoNetworkError,
  MongoServerSelectionError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoClientClosedError,
  MongoServerClosedError,
  MongoOperationTimeoutError,
];

export const isConnectivityError = (error: unknown): error is Error => CONNECTIVITY_ERRORS.some((errorClass) => error instanceof errorClass);
