import type { Application, Instance, InstanceEvent } from '@forms/contracts';
import {
  type Collection,
  type MongoClient,
  type Db,
  type Document,
  type Filter,
  type IndexDescription,
  type MongoClientOptions,
  type Sort,
} from 'mongodb';
import {
  DuplicateKeyError,
  type ApplicationRepository,
  type EventQuery,
  type InstanceEventRepository,
  type InstanceQuery,
  type InstanceRepository,
  type MetadataStore,
  type PendingUpload,
  type PendingUploadRepository,
  type InstanceWrite,
  type StoreLog,
} from '../../domain/ports/metadata-store';
import type { ScanJob, ScanQueueRepository } from '../../domain/ports/scan-queue';
import { createMongoClient, idForKey, isConnectivityError, isDuplicateKeyError } from '@forms/mongo-support';
import { assertValidLimit, instanceGuidOf, metadataStoreUnavailable as unavailable } from './metadata-support';
import { instanceQueryFilter, rangeFilter } from './mongo-instance-query';
import { OUTBOX, OUTBOX_AT, OutboxDrain, outboxFields } from './mongo-outbox';

/**
 * MetadataStore on MongoDB (official driver). Concurrency rests on `_id` uniqueness and version fields
 * only: no transactions, unique secondary indexes or change streams.
 *
 * Each document is stored with `_key`, its natural id (application id, instance guid, event id, data
 * element id), and `_id`, an ObjectId derived from `_key` by hashing. Derived rather than `_id = _key`
 * because CongoServer, the test stand-in, only accepts ObjectId `_id`s; the hash keeps `_id` unique per
 * key, so duplicate inserts still fail on `_id`. Keyset ordering uses `_key`. Both fields are stripped on reads.
 */
export class MongoMetadataStore implements MetadataStore {
  private readonly client: MongoClient;
  private repositories: Repositories | undefined;
  private db: Db | undefined;

  constructor(
    url: string,
    private readonly databaseName: string,
    clientOptions: MongoClientOptions = {},
  ) {
    this.client = createMongoClient(url, clientOptions);
  }

  get applications(): ApplicationRepository {
    return this.opened().applications;
  }

  get instances(): InstanceRepository {
    return this.opened().instances;
  }

  get events(): InstanceEventRepository {
    return this.opened().events;
  }

  get pendingUploads(): PendingUploadRepository {
    return this.opened().pendingUploads;
  }

  get scanQueue(): ScanQueueRepository {
    return this.opened().scanQueue;
  }

  async init(log: StoreLog = () => {}): Promise<void> {
    if (this.repositories) return;
    await translateErrors(async () => {
      await this.client.connect();
      const db = this.client.db(this.databaseName);
      const collections = {
        applications: db.collection(COLLECTIONS.applications),
        instances: db.collection(COLLECTIONS.instances),
        events: db.collection(COLLECTIONS.events),
        pendingUploads: db.collection(COLLECTIONS.pendingUploads),
        scanQueue: db.collection(COLLECTIONS.scanQueue),
      };
      await Promise.all([
        collections.applications.createIndexes(INDEXES.applications),
        collections.instances.createIndexes(INDEXES.instances),
        collections.events.createIndexes(INDEXES.events),
        collections.pendingUploads.createIndexes(INDEXES.pendingUploads),
        collections.scanQueue.createIndexes(INDEXES.scanQueue),
      ]);
      const outbox = new OutboxDrain(collections.instances, collections.events, collections.pendingUploads);
      const drained = await outbox.drainAll();
      if (drained > 0) log('info', 'moved the outboxes an interrupted write left in instance documents', { drained });
      this.db = db;
      this.repositories = {
        applications: new MongoApplicationRepository(new KeyedCollection(collections.applications)),
        instances: new MongoInstanceRepository(new KeyedCollection(collections.instances), outbox),
        events: new MongoEventRepository(new KeyedCollection(collections.events), outbox),
        pendingUploads: new MongoPendingUploadRepository(new KeyedCollection(collections.pendingUploads)),
        scanQueue: new MongoScanQueueRepository(new KeyedCollection(collections.scanQueue)),
      };
    });
  }

  async ping(): Promise<void> {
    const db = this.db;
    if (!db) throw unavailable('the MongoDB metadata store is not open');
    await translateErrors(() => db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    // Cleared first: after close the driver would reconnect on demand, and ping must report the store closed.
    this.repositories = undefined;
    this.db = undefined;
    await this.client.close();
  }

  private opened(): Repositories {
    if (!this.repositories) throw unavailable('the MongoDB metadata store is not open (call init first)');
    return this.repositories;
  }
}

const COLLECTIONS = {
  applications: 'applications',
  instances: 'instances',
  events: 'instanceEvents',
  pendingUploads: 'pendingUploads',
  scanQueue: 'scanQueue',
} as const;

/** One index per query pattern, each ending in the sort keys so results come out of the index in order. */
const INDEXES: Record<keyof typeof COLLECTIONS, IndexDescription[]> = {
  applications: [{ key: { org: 1, _key: 1 } }],
  instances: [
    { key: { appId: 1, lastChanged: 1, _key: 1 } },
    { key: { org: 1, lastChanged: 1, _key: 1 } },
    { key: { 'instanceOwner.partyId': 1, lastChanged: 1, _key: 1 } },
    { key: { lastChanged: 1, _key: 1 } },
    // Only documents with an undrained outbox have the field: tiny, and found at start-up without a scan.
    { key: { [OUTBOX_AT]: 1 }, sparse: true },
  ],
  events: [{ key: { instanceId: 1, created: 1, _key: 1 } }],
  pendingUploads: [{ key: { started: 1, _key: 1 } }],
  scanQueue: [{ key: { due: 1, _key: 1 } }],
};

interface Repositories {
  applications: ApplicationRepository;
  instances: InstanceRepository;
  events: InstanceEventRepository;
  pendingUploads: PendingUploadRepository;
  scanQueue: ScanQueueRepository;
}


/**
 * Documents of type T under their natural key. Filters are plain `Document`s: the driver's typed
 * filters cannot express our `_key`/`_id` fields on a generic T, and every document read here was
 * written here, so reads are cast back to T.
 */
class KeyedCollection<T extends object> {
  constructor(private readonly collection: Collection) {}

  async get(key: string): Promise<T | null> {
    // `_key` as well as `_id`: a hash collision must never return another key's document.
    const stored = await translateErrors(() => this.collection.findOne({ _id: idForKey(key), _key: key }));
    return stored === null ? null : fromStored<T>(stored);
  }

  async find(filter: Filter<Document>, sort: Sort, limit?: number): Promise<T[]> {
    if (limit === 0) return []; // Mongo reads limit 0 as "no limit"
    return translateErrors(async () => {
      const cursor = this.collection.find(filter).sort(sort);
      if (limit !== undefined) cursor.limit(limit);
      return (await cursor.toArray()).map((stored) => fromStored<T>(stored));
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

const toStored = (key: string, doc: object): Document => ({ ...doc, _id: idForKey(key), _key: key });

function fromStored<T extends object>(stored: Document): T {
  const { _id, _key, [OUTBOX]: _outbox, [OUTBOX_AT]: _outboxAt, ...doc } = stored;
  return doc as T;
}

class MongoApplicationRepository implements ApplicationRepository {
  constructor(private readonly applications: KeyedCollection<Application>) {}

  get(appId: string): Promise<Application | null> {
    return this.applications.get(appId);
  }

  listByOrg(org: string): Promise<Application[]> {
    return this.applications.find({ org }, { _key: 1 });
  }

  listAll(): Promise<Application[]> {
    return this.applications.find({}, { _key: 1 });
  }

  remove(appId: string): Promise<void> {
    return this.applications.remove(appId);
  }

  insert(application: Application): Promise<void> {
    return this.applications.insert(application.id, application);
  }

  replace(application: Application, expectedVersion: number): Promise<boolean> {
    return this.applications.replaceIfVersion(application.id, application, expectedVersion);
  }
}

/** Writes of instances carry their events and pending uploads in an outbox (see mongo-outbox.ts). */
class MongoInstanceRepository implements InstanceRepository {
  constructor(
    private readonly instances: KeyedCollection<Instance>,
    private readonly outbox: OutboxDrain,
  ) {}

  get(instanceGuid: string): Promise<Instance | null> {
    return this.instances.get(instanceGuid);
  }

  async insert(instance: Instance, write?: InstanceWrite): Promise<void> {
    const key = instanceGuidOf(instance);
    await this.instances.insert(key, instance, outboxFields(write, instance.lastChanged));
    await this.drainQuietly(key);
  }

  async replace(instance: Instance, expectedVersion: number, write?: InstanceWrite): Promise<boolean> {
    const key = instanceGuidOf(instance);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // Never over an undrained outbox: that would lose the previous write's events.
      const replaced = await this.instances.replaceIfVersion(key, instance, expectedVersion, { [OUTBOX_AT]: { $exists: false } }, outboxFields(write, instance.lastChanged));
      if (replaced) {
        await this.drainQuietly(key);
        return true;
      }
      const stored = await this.instances.raw(key);
      if (!stored || stored.version !== expectedVersion || stored[OUTBOX_AT] === undefined) return false;
      await translateErrors(() => this.outbox.drain(key, stored));
    }
    return false;
  }

  async remove(instanceGuid: string, write?: Pick<InstanceWrite, 'events'>): Promise<void> {
    // Earlier events still in the outbox first (they would go with the document), then this write's
    // events (a crash before the delete leaves an instance that a retried delete removes), then the document.
    await translateErrors(async () => {
      await this.outbox.drain(instanceGuid);
      for (const event of write?.events ?? []) await this.outbox.recordEvent(event);
    });
    await this.instances.remove(instanceGuid);
  }

  /** The write is stored (with its outbox) whatever happens here; a failed drain is finished by a later write or the next start. */
  private async drainQuietly(key: string): Promise<void> {
    await this.outbox.drain(key).catch(() => undefined);
  }

  query(query: InstanceQuery): Promise<Instance[]> {
    assertValidLimit(query.limit);
    return this.instances.find(instanceQueryFilter(query), { lastChanged: 1, _key: 1 }, query.limit);
  }
}

class MongoEventRepository implements InstanceEventRepository {
  constructor(
    private readonly events: KeyedCollection<InstanceEvent>,
    private readonly outbox: OutboxDrain,
  ) {}

  insert(event: InstanceEvent): Promise<void> {
    return this.events.insert(event.id, event);
  }

  /** The events collection and, merged in, events still in the instance's outbox. */
  async list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]> {
    const filter: Filter<Document> = { instanceId };
    if (query.eventTypes !== undefined) filter.eventType = { $in: query.eventTypes };
    const created = rangeFilter({ gte: query.from, lte: query.to });
    if (created) filter.created = created;
    const stored = await this.events.find(filter, { created: 1, _key: 1 });
    const guid = instanceId.split('/')[1];
    const outboxed = guid ? await translateErrors(() => this.outbox.pendingEvents(guid)) : [];
    const seen = new Set(stored.map((event) => event.id));
    const pending = outboxed.filter(
      (event) =>
        !seen.has(event.id) &&
        event.instanceId === instanceId &&
        (query.eventTypes === undefined || query.eventTypes.includes(event.eventType)) &&
        (query.from === undefined || event.created >= query.from) &&
        (query.to === undefined || event.created <= query.to),
    );
    if (pending.length === 0) return stored;
    return [...stored, ...pending].sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  removeForInstance(instanceId: string): Promise<void> {
    return this.events.removeMany({ instanceId });
  }
}

class MongoPendingUploadRepository implements PendingUploadRepository {
  constructor(private readonly uploads: KeyedCollection<PendingUpload>) {}

  insert(upload: PendingUpload): Promise<void> {
    return this.uploads.insert(upload.dataElementId, upload);
  }

  remove(dataElementId: string): Promise<void> {
    return this.uploads.remove(dataElementId);
  }

  listStartedBefore(started: string, limit: number): Promise<PendingUpload[]> {
    assertValidLimit(limit);
    return this.uploads.find({ started: { $lt: started } }, { started: 1, _key: 1 }, limit);
  }
}

class MongoScanQueueRepository implements ScanQueueRepository {
  constructor(private readonly jobs: KeyedCollection<ScanJob>) {}

  put(job: ScanJob): Promise<void> {
    return this.jobs.put(job.dataElementId, job);
  }

  remove(dataElementId: string): Promise<void> {
    return this.jobs.remove(dataElementId);
  }

  listDue(now: string, limit: number): Promise<ScanJob[]> {
    assertValidLimit(limit);
    return this.jobs.find({ due: { $lte: now } }, { due: 1, _key: 1 }, limit);
  }
}

/** Maps driver errors to the MetadataStore contract: duplicate `_id` -> DuplicateKeyError, connectivity -> unavailable. */
async function translateErrors<T>(operation: () => Promise<T>, insertedKey?: string): Promise<T> {
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
