import {
  type Collection,
  type MongoClient,
  type Db,
  type Document,
  type MongoClientOptions,
} from 'mongodb';
import { createMongoClient, idForKey, isConnectivityError, isDuplicateKeyError } from '@forms/mongo-support';
import type { ClientRecord } from '../domain/clients';
import { DuplicateClientError, type ClientStore, type RateLimitCount } from '../domain/ports/client-store';
import { clientStoreUnavailable } from './store-errors';

const COLLECTIONS = { clients: 'clients', assertionIds: 'assertionIds', rateLimits: 'rateLimits' } as const;

/**
 * ClientStore on MongoDB. As in the storage service, uniqueness rests on `_id` only (no unique secondary
 * indexes, which the test stand-in does not enforce): `_id` is an ObjectId derived from the natural key by
 * hashing, so a second insert of the same client id, or of the same (client id, jti) pair, fails with 11000
 * on every instance sharing the database. Clients also keep `_key` (the client id), so a hash collision can
 * never return another client.
 */
export class MongoClientStore implements ClientStore {
  private readonly client: MongoClient;
  private collections: Collections | undefined;
  private db: Db | undefined;

  constructor(
    url: string,
    private readonly databaseName: string,
    clientOptions: MongoClientOptions = {},
  ) {
    this.client = createMongoClient(url, clientOptions);
  }

  async init(): Promise<void> {
    if (this.collections) return;
    await translate(async () => {
      await this.client.connect();
      const db = this.client.db(this.databaseName);
      const collections = {
        clients: db.collection(COLLECTIONS.clients),
        assertionIds: db.collection(COLLECTIONS.assertionIds),
        rateLimits: db.collection(COLLECTIONS.rateLimits),
      };
      await collections.clients.createIndexes([{ key: { _key: 1 } }]);
      // MongoDB deletes expired assertion ids itself; correctness does not depend on it (see rememberAssertionId).
      await collections.assertionIds.createIndexes([{ key: { expiresAt: 1 }, expireAfterSeconds: 0 }]);
      // Windows idle for a day go; counting does not depend on it.
      await collections.rateLimits.createIndexes([{ key: { seen: 1 }, expireAfterSeconds: 86_400 }]);
      this.db = db;
      this.collections = collections;
    });
  }

  async ping(): Promise<void> {
    const db = this.db;
    if (!db) throw clientStoreUnavailable('the MongoDB client store is not open');
    await translate(() => db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    // Cleared first: the driver would reconnect on demand, and ping must report the store closed.
    this.collections = undefined;
    this.db = undefined;
    await this.client.close();
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    const { clients } = this.opened();
    const stored = await translate(() => clients.findOne({ _id: idForKey(clientId), _key: clientId }));
    return stored === null ? null : fromStored(stored);
  }

  async listClients(): Promise<ClientRecord[]> {
    const { clients } = this.opened();
    return translate(async () => (await clients.find({}).sort({ _key: 1 }).toArray()).map(fromStored));
  }

  async insertClient(client: ClientRecord): Promise<void> {
    const { clients } = this.opened();
    try {
      await translate(() => clients.insertOne({ ...client, _id: idForKey(client.clientId), _key: client.clientId }));
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DuplicateClientError(client.clientId);
      throw error;
    }
  }

  async deleteClient(clientId: string): Promise<boolean> {
    const { clients } = this.opened();
    const result = await translate(() => clients.deleteOne({ _id: idForKey(clientId), _key: clientId }));
    return result.deletedCount === 1;
  }

  async rememberAssertionId(clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    const { assertionIds } = this.opened();
    const _id = idForKey(JSON.stringify([clientId, jti]));
    try {
      await translate(() => assertionIds.insertOne({ _id, expiresAt }));
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Recorded before. If that record has expired (the TTL monitor runs only once a minute), this use is
    // new; the filtered replace lets exactly one of several concurrent callers take it over.
    const replaced = await translate(() => assertionIds.replaceOne({ _id, expiresAt: { $lte: now } }, { expiresAt }));
    return replaced.matchedCount === 1;
  }

  /**
   * One document per key: `count` in the window that began at `windowStart`, both in the database's time
   * (`$currentDate`), never a replica's clock. A hit increments and reads the time in one update; a hit after
   * the window's end starts a new one with a compare-and-set on `windowStart`, so exactly one replica resets it.
   */
  async countHit(key: string, windowMs: number): Promise<RateLimitCount> {
    const { rateLimits } = this.opened();
    const _id = idForKey(`rate:${key}`);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const hit = await translate(() =>
        rateLimits.findOneAndUpdate({ _id }, { $inc: { count: 1 }, $currentDate: { seen: true } }, { upsert: true, returnDocument: 'after' }),
      ).catch((error: unknown) => {
        if (isDuplicateKeyError(error)) return null; // two first hits at once: count again
        throw error;
      });
      if (!hit) continue;
      const seen = (hit.seen as Date).getTime();
      const start = hit.windowStart instanceof Date ? hit.windowStart.getTime() : undefined;
      if (start !== undefined && seen < start + windowMs) return { count: Number(hit.count), resetInMs: start + windowMs - seen };
      const reset = await translate(() =>
        rateLimits.findOneAndUpdate(
          { _id, windowStart: hit.windowStart ?? { $exists: false } },
          { $set: { count: 1 }, $currentDate: { windowStart: true, seen: true } },
          { returnDocument: 'after' },
        ),
      );
      if (reset) return { count: 1, resetInMs: windowMs };
    }
    throw clientStoreUnavailable('rate limit window kept changing under concurrent hits');
  }

  private opened(): Collections {
    if (!this.collections) throw clientStoreUnavailable('the MongoDB client store is not open (call init first)');
    return this.collections;
  }
}


interface Collections {
  clients: Collection;
  assertionIds: Collection;
  rateLimits: Collection;
}

function fromStored(stored: Document): ClientRecord {
  const { _id, _key, ...record } = stored;
  // Every client document was written by insertClient from a ClientRecord.
  return record as ClientRecord;
}


async function translate<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isConnectivityError(error)) {
      throw clientStoreUnavailable(`client store unavailable: ${error.message}`, error);
    }
    throw error;
  }
}
