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
  type TimeRange,
} from '../../domain/ports/metadata-store';
import type { ScanJob, ScanQueueRepository } from '../../domain/ports/scan-queue';
import { createMongoClient, idForKey, isConnectivityError, isDuplicateKeyError } from '@forms/mongo-support';
import { assertValidLimit, instanceGuidOf, metadataStoreUnavailable as unavailable } from './metadata-support';

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

  async init(): Promise<void> {
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
      this.db = db;
      this.repositories = {
        applications: new MongoApplicationRepository(new KeyedCollection(collections.applications)),
        instances: new MongoInstanceRepository(new KeyedCollection(collections.instances)),
        events: new MongoEventRepository(new KeyedCollection(collections.events)),
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
  async insert(key: string, doc: T): Promise<void> {
    await translateErrors(() => this.collection.insertOne(toStored(key, doc)), key);
  }

  async replaceIfVersion(key: string, doc: T, expectedVersion: number): Promise<boolean> {
    const { _id, ...replacement } = toStored(key, doc);
    const result = await translateErrors(() => this.collection.replaceOne({ _id, _key: key, version: expectedVersion }, replacement));
    return result.matchedCount === 1;
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
  const { _id, _key, ...doc } = stored;
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

  insert(application: Application): Promise<void> {
    return this.applications.insert(application.id, application);
  }

  replace(application: Application, expectedVersion: number): Promise<boolean> {
    return this.applications.replaceIfVersion(application.id, application, expectedVersion);
  }
}

class MongoInstanceRepository implements InstanceRepository {
  constructor(private readonly instances: KeyedCollection<Instance>) {}

  get(instanceGuid: string): Promise<Instance | null> {
    return this.instances.get(instanceGuid);
  }

  insert(instance: Instance): Promise<void> {
    return this.instances.insert(instanceGuidOf(instance), instance);
  }

  replace(instance: Instance, expectedVersion: number): Promise<boolean> {
    return this.instances.replaceIfVersion(instanceGuidOf(instance), instance, expectedVersion);
  }

  remove(instanceGuid: string): Promise<void> {
    return this.instances.remove(instanceGuid);
  }

  query(query: InstanceQuery): Promise<Instance[]> {
    assertValidLimit(query.limit);
    return this.instances.find(instanceQueryFilter(query), { lastChanged: 1, _key: 1 }, query.limit);
  }
}

class MongoEventRepository implements InstanceEventRepository {
  constructor(private readonly events: KeyedCollection<InstanceEvent>) {}

  insert(event: InstanceEvent): Promise<void> {
    return this.events.insert(event.id, event);
  }

  list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]> {
    const filter: Filter<Document> = { instanceId };
    if (query.eventTypes !== undefined) filter.eventType = { $in: query.eventTypes };
    const created = rangeFilter({ gte: query.from, lte: query.to });
    if (created) filter.created = created;
    return this.events.find(filter, { created: 1, _key: 1 });
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

/**
 * InstanceQuery as a Mongo filter; matchesInstanceQuery in the embedded adapter is the same in plain
 * JavaScript. Timestamps are ISO strings, so comparing them as strings orders them in time.
 */
export function instanceQueryFilter(query: InstanceQuery): Filter<Document> {
  const conditions: Filter<Document>[] = [];
  if (query.appIds !== undefined) conditions.push({ appId: { $in: query.appIds } });
  if (query.org !== undefined) conditions.push({ org: query.org });
  if (query.partyIds !== undefined) conditions.push({ 'instanceOwner.partyId': { $in: query.partyIds } });
  if (query.currentTask !== undefined) conditions.push({ 'process.currentTask.elementId': query.currentTask });
  // `null` matches a null as well as a missing member.
  if (query.isComplete !== undefined) conditions.push({ 'process.ended': query.isComplete ? { $ne: null } : null });
  if (query.endEvent !== undefined) conditions.push({ 'process.endEvent': query.endEvent });
  const ranges = { lastChanged: query.lastChanged, created: query.created, dueBefore: query.dueBefore, visibleAfter: query.visibleAfter };
  for (const [field, range] of Object.entries(ranges)) {
    const bounds = range && rangeFilter(range);
    if (bounds) conditions.push({ [field]: bounds });
  }
  if (query.isArchived !== undefined) conditions.push({ 'status.isArchived': query.isArchived });
  if (query.isSoftDeleted !== undefined) conditions.push({ 'status.isSoftDeleted': query.isSoftDeleted });
  if (query.isHardDeleted !== undefined) conditions.push({ 'status.isHardDeleted': query.isHardDeleted });
  if (query.excludeHiddenFromOwner) conditions.push({ 'status.isHiddenFromOwner': { $ne: true } });
  // On an array member, $ne holds only when no element has the value.
  if (query.excludeConfirmedBy !== undefined) conditions.push({ 'completeConfirmations.stakeholderId': { $ne: query.excludeConfirmedBy } });
  if (query.after !== undefined) {
    const { lastChanged, instanceGuid } = query.after;
    conditions.push({ $or: [{ lastChanged: { $gt: lastChanged } }, { lastChanged, _key: { $gt: instanceGuid } }] });
  }
  return conditions.length === 0 ? {} : { $and: conditions };
}

/** Undefined for a range without bounds: an empty operator object would mean "equals {}" to Mongo. */
function rangeFilter(range: TimeRange): Document | undefined {
  const operators: Document = {};
  if (range.gt !== undefined) operators.$gt = range.gt;
  if (range.gte !== undefined) operators.$gte = range.gte;
  if (range.lt !== undefined) operators.$lt = range.lt;
  if (range.lte !== undefined) operators.$lte = range.lte;
  if (range.eq !== undefined) operators.$eq = range.eq;
  return Object.keys(operators).length === 0 ? undefined : operators;
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
