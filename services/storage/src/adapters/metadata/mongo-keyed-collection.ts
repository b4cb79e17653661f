import { BSON, type Collection, type Document, type Filter, type Sort } from 'mongodb';
import { idForKey, isConnectivityError, isDuplicateKeyError } from '@forms/mongo-support';
import { DuplicateKeyError } from '../../domain/ports/metadata-store';
import { metadataStoreUnavailable as unavailable } from './metadata-support';

/** Private members of stored documents, stripped on reads: natural key, outbox (mongo-outbox.ts), write sequence, event's app. */
export const PRIVATE_FIELDS = ['_id', '_key', '_outbox', '_outboxAt', '_seq', '_appId'] as const;

/**
 * Documents of type T under their natural key. Filters are plain `Document`s: the driver's typed
 * filters cannot express our `_key`/`_id` fields on a generic T, and every document read here was
 * written here, so reads are cast back to T.
 */
export class KeyedCollection<T extends object> {
  constructor(readonly collection: Collection) {}

  async get(key: string): Promise<T | null> {
    // `_key` as well as `_id`: a hash collision must never return another key's document.
    const stored = await translateErrors(() => this.collection.findOne({ _id: idForKey(key), _key: key }));
    return stored === null ? null : fromStored<T>(stored);
  }

  async find(filter: Filter<Document>, sort: Sort, limit?: number): Promise<T[]> {
    return (await this.findRaw(filter, sort, limit)).map((stored) => fromStored<T>(stored));
  }

  async count(filter: Filter<Document> = {}): Promise<number> {
    return translateErrors(() => this.collection.countDocuments(filter));
  }

  /** As `find`, with the private fields. */
  async findRaw(filter: Filter<Document>, sort: Sort, limit?: number): Promise<Document[]> {
    if (limit === 0) return []; // Mongo reads limit 0 as "no limit"
    return translateErrors(async () => {
      const cursor = this.collection.find(filter).sort(sort);
      if (limit !== undefined) cursor.limit(limit);
      return cursor.toArray();
    });
  }

  /**
   * As `findRaw`, with the BSON size of each document, ending with the one that takes them to `maxBytes` or more:
   * the rest of the cursor is never fetched (the driver holds one batch at most).
   */
  async findRawSized(filter: Filter<Document>, sort: Sort, limit: number, maxBytes = Infinity): Promise<{ stored: Document; bytes: number }[]> {
    if (limit === 0) return [];
    return translateErrors(async () => {
      const taken: { stored: Document; bytes: number }[] = [];
      let total = 0;
      // Leaving the loop closes the cursor.
      for await (const stored of this.collection.find(filter).sort(sort).limit(limit)) {
        const bytes = BSON.calculateObjectSize(stored);
        taken.push({ stored, bytes });
        total += bytes;
        if (total >= maxBytes) break;
      }
      return taken;
    });
  }

  /** @throws DuplicateKeyError */
  async insert(key: string, doc: T, extra: Document = {}): Promise<void> {
    await translateErrors(() => this.collection.insertOne({ ...toStored(key, doc), ...extra }), key);
  }

  async replaceIfVersion(key: string, doc: T, expectedVersion: number, extraFilter: Document = {}, extra: Document = {}): Promise<boolean> {
    const { _id, ...replacement } = toStored(key, doc);
    const result = await translateErrors(() => this.collection.replaceOne({ _id, _key: key, version: expectedVersion, ...extraFilter }, { ...replacement, ...extra }));
    return result.matchedCount === 1;
  }

  /** The stored document as is, with its private fields. */
  async raw(key: string): Promise<Document | null> {
    return translateErrors(() => this.collection.findOne({ _id: idForKey(key), _key: key }));
  }

  async put(key: string, doc: T): Promise<void> {
    const { _id, ...replacement } = toStored(key, doc);
    await translateErrors(() => this.collection.replaceOne({ _id, _key: key }, replacement, { upsert: true }), key);
  }

  async remove(key: string): Promise<void> {
    await translateErrors(() => this.collection.deleteOne({ _id: idForKey(key), _key: key }));
  }

  async removeMany(filter: Filter<Document>): Promise<void> {
    await translateErrors(() => this.collection.deleteMany(filter));
  }
}

export const toStored = (key: string, doc: object): Document => ({ ...doc, _id: idForKey(key), _key: key });

export function fromStored<T extends object>(stored: Document): T {
  const doc: Document = { ...stored };
  for (const field of PRIVATE_FIELDS) delete doc[field];
  return doc as T;
}

/** Maps driver errors to the MetadataStore contract: duplicate `_id` -> DuplicateKeyError, connectivity -> unavailable. */
export async function translateErrors<T>(operation: () => Promise<T>, insertedKey?: string): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (insertedKey !== undefined && isDuplicateKeyError(error)) {
      throw new DuplicateKeyError(insertedKey);
    }
    if (isConnectivityError(error)) {
      throw unavailable(`metadata store unavailable: ${error.message}`, error);
    }
    throw error;
  }
}
