import type { Application, Instance } from '@forms/contracts';
import type { Db, IndexDescription, MongoClient, MongoClientOptions } from 'mongodb';
import type {
  ApplicationRepository,
  InstanceEventRepository,
  InstanceRepository,
  MetadataStore,
  PendingUpload,
  PendingUploadRepository,
  StoreLog,
} from '../../domain/ports/metadata-store';
import type { ScanBacklog, ScanJob, ScanQueueRepository } from '../../domain/ports/scan-queue';
import { createMongoClient } from '@forms/mongo-support';
import { assertValidLimit, metadataStoreUnavailable as unavailable } from './metadata-support';
import { MongoEventRepository } from './mongo-event-repository';
import { MongoInstanceRepository } from './mongo-instance-repository';
import { KeyedCollection, translateErrors } from './mongo-keyed-collection';
import { OUTBOX_AT, OutboxDrain } from './mongo-outbox';
import { numberUnsequenced } from './mongo-sequence-backfill';
import { MongoSequence } from './mongo-sequence';

export interface MongoMetadataStoreOptions {
  /**
   * How long (database time) a write's sequence may stay in flight before readers pass it as abandoned
   * by a replica that died (mongo-sequence.ts). Longer than any write takes; it is also how long readers
   * of the newest writes wait behind a replica killed mid-write. Default 10 s.
   */
  sequenceLeaseMs?: number;
}

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
    private readonly options: MongoMetadataStoreOptions = {},
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
        counters: db.collection(COLLECTIONS.counters),
      };
      await Promise.all([
        collections.applications.createIndexes(INDEXES.applications),
        collections.instances.createIndexes(INDEXES.instances),
        collections.events.createIndexes(INDEXES.events),
        collections.pendingUploads.createIndexes(INDEXES.pendingUploads),
        collections.scanQueue.createIndexes(INDEXES.scanQueue),
      ]);
      const sequence = new MongoSequence(collections.counters, this.options.sequenceLeaseMs ?? 10_000);
      await sequence.init();
      const numbered = await numberUnsequenced(sequence, collections.instances, collections.events);
      if (numbered > 0) log('info', 'gave the documents of an earlier release their write sequence', { numbered });
      const outbox = new OutboxDrain(collections.instances, collections.events, collections.pendingUploads);
      const drained = await outbox.drainAll();
      if (drained > 0) log('info', 'moved the outboxes an interrupted write left in instance documents', { drained });
      this.db = db;
      const instances = new KeyedCollection<Instance>(collections.instances);
      this.repositories = {
        applications: new MongoApplicationRepository(new KeyedCollection(collections.applications)),
        instances: new MongoInstanceRepository(instances, collections.events, outbox, sequence),
        events: new MongoEventRepository(new KeyedCollection(collections.events), instances, outbox, sequence),
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
  counters: 'counters',
} as const;

/** One index per query pattern, each ending in the sort keys so results come out of the index in order. */
const INDEXES: Record<keyof typeof COLLECTIONS, IndexDescription[]> = {
  applications: [{ key: { org: 1, _key: 1 } }],
  // The query order is the write sequence `_seq` (mongo-sequence.ts).
  instances: [
    { key: { appId: 1, _seq: 1 } },
    { key: { org: 1, _seq: 1 } },
    { key: { 'instanceOwner.partyId': 1, _seq: 1 } },
    { key: { _seq: 1 } },
    // The hard-delete clean-up job's walk: the few marked instances, without a collection scan.
    { key: { 'status.isHardDeleted': 1, _seq: 1 } },
    // Only documents with an undrained outbox have the field: tiny, and found at start-up without a scan.
    { key: { [OUTBOX_AT]: 1 }, sparse: true },
  ],
  events: [
    { key: { instanceId: 1, created: 1, _key: 1 } },
    // The feed, in (sequence, id) order, of all apps or of some.
    { key: { _seq: 1, _key: 1 } },
    { key: { _appId: 1, _seq: 1, _key: 1 } },
  ],
  pendingUploads: [{ key: { started: 1, _key: 1 } }],
  scanQueue: [{ key: { due: 1, _key: 1 } }],
  counters: [],
};

interface Repositories {
  applications: ApplicationRepository;
  instances: InstanceRepository;
  events: InstanceEventRepository;
  pendingUploads: PendingUploadRepository;
  scanQueue: ScanQueueRepository;
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

  async backlog(): Promise<ScanBacklog> {
    // No index on `queued`: the queue holds only elements still without a verdict, and this runs once a scrape.
    const [jobs, [oldest]] = await Promise.all([this.jobs.count(), this.jobs.find({}, { queued: 1, _key: 1 }, 1)]);
    return { jobs, oldestQueued: oldest?.queued ?? null };
  }
}
