import type { Application, Instance, InstanceEvent, InstanceEventType } from '@forms/contracts';
import type { ScanQueueRepository } from './scan-queue';

/**
 * Persistence of the storage service's metadata. Two adapters implement it: MongoDB (production) and
 * SQLite (the embedded default). Both must pass test/contract/metadata-store.contract.ts.
 *
 * Every write that can race is guarded by a version number (optimistic concurrency), never by
 * unique secondary indexes, so the same rules hold on every adapter. A write of an instance carries
 * what belongs with it (its audit events, pending-upload records) and stores all of it or nothing:
 * SQLite in one transaction, MongoDB through an outbox inside the instance document.
 *
 * Order across replicas (docs/adr/0013-order-across-replicas.md): every write of an instance (insert,
 * replace, remove, or an event recorded on its own) gets a `sequence` from the database, strictly
 * increasing in commit order, stored with the instance and stamped on the write's events. Readers
 * (`instances.query`, `events.feed`) see only writes at or below the committed watermark: every write
 * with a sequence at or below it has committed or never will, so a reader that resumes after a position
 * can never miss a write that commits later.
 */
export interface MetadataStore {
  readonly applications: ApplicationRepository;
  readonly instances: InstanceRepository;
  readonly events: InstanceEventRepository;
  readonly pendingUploads: PendingUploadRepository;
  /** Data elements waiting for a malware scan verdict (domain/scanning.ts). */
  readonly scanQueue: ScanQueueRepository;
  /**
   * Small content kept in the metadata store itself, written in the same transaction as the instance that
   * refers to it (ADR 0018). Optional: a store without it keeps all content in the blob store.
   */
  readonly inlineContents?: InlineContentRepository;
  /** How the store has committed its writes since it opened, for metrics; absent where the database does it unseen (MongoDB). */
  writeFigures?(): StoreWriteFigures;
  /** Connects, loads and creates indexes (or migrates the schema). Called once at start-up. */
  init(log?: StoreLog): Promise<void>;
  /** Throws when the store cannot serve requests, reads or writes (used by /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The embedded store's group commit (ADR 0015): writes per commit is the batch, commits per log sync the grouping
 * of syncs; checkpoints move the write-ahead log into the database (none for long: the log grows).
 */
export interface StoreWriteFigures {
  commits: number;
  writes: number;
  logSyncs: number;
  checkpoints: number;
  /** Writes queued for the next batch now. */
  waiting: number;
  /** The write-ahead log's length now: it grows while checkpoints cannot keep up (a reader holding on to a snapshot). */
  logBytes: number;
}

/** Where a store reports what it did on its own while opening or in the background (imports, integrity checks). */
export type StoreLog = (level: 'info' | 'warn' | 'error', message: string, details?: object) => void;

/** Thrown by `insert` when a document with the same id exists. */
export class DuplicateKeyError extends Error {
  constructor(readonly id: string) {
    super(`duplicate key: ${id}`);
    this.name = 'DuplicateKeyError';
  }
}

export interface ApplicationRepository {
  get(appId: string): Promise<Application | null>;
  listByOrg(org: string): Promise<Application[]>;
  /** Every registered application, ordered by id. */
  listAll(): Promise<Application[]>;
  /** Removes the application record; idempotent. */
  remove(appId: string): Promise<void>;
  /** @throws DuplicateKeyError */
  insert(application: Application): Promise<void>;
  /** Replaces the stored application if its version is still `expectedVersion`; returns false otherwise. */
  replace(application: Application, expectedVersion: number): Promise<boolean>;
}

/**
 * What is written together with an instance: all of it is stored with the instance, or nothing when
 * the instance write fails (duplicate id, stale version, store error), also across a crash.
 */
export interface InstanceWrite {
  /** Audit events of the change; `events.list` shows them as soon as the write resolves. */
  events?: InstanceEvent[];
  /** Pending-upload records to add (blobs written for this instance but not yet referenced by it). */
  pendingUploads?: PendingUpload[];
  /**
   * Pending-upload records (by data element id) this write settles: their blobs are now referenced.
   * An adapter may remove them just after the write instead of with it: the reaper keeps referenced blobs.
   */
  settledUploads?: string[];
  /** Content to keep in the store itself (only where `inlineContents` exists), written with the instance or not at all. */
  inlineContents?: InlineContent[];
  /**
   * `JSON.stringify` of the instance written, when the domain made it already (its size check): a store that keeps
   * the document as JSON writes this instead of serialising it again. Only ever the JSON of that same instance.
   */
  json?: string;
}

/** Content of a data element kept beside its metadata, under the element's blob storage path. */
export interface InlineContent {
  key: string;
  bytes: Buffer;
}

export interface InlineContentRepository {
  /** The content under `key`, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
}

export interface InstanceRepository {
  /** By instance guid (the part after the slash of `instance.id`). */
  get(instanceGuid: string): Promise<Instance | null>;
  /** @throws DuplicateKeyError (and then stores nothing of `write`) */
  insert(instance: Instance, write?: InstanceWrite): Promise<void>;
  /** Replaces the stored instance if its version is still `expectedVersion`; returns false otherwise (storing nothing of `write`). */
  replace(instance: Instance, expectedVersion: number, write?: InstanceWrite): Promise<boolean>;
  /** Removes the instance for good, recording `write.events` (its audit events are kept). Idempotent. */
  remove(instanceGuid: string, write?: Pick<InstanceWrite, 'events'>): Promise<void>;
  /** Matching instances in the order of their last write (sequence ascending, or descending), at most `query.limit`. */
  query(query: InstanceQuery): Promise<Instance[]>;
  /** As `query`, with the sequence of each instance's last write: the keyset cursor of the next page. */
  querySequenced(query: InstanceQuery): Promise<SequencedInstance[]>;
}

/** An instance with the sequence of its last write (its position in the query order). */
export interface SequencedInstance {
  instance: Instance;
  sequence: number;
  /** Its size as stored (its JSON, or its BSON on MongoDB), for `maxBytes`. */
  bytes: number;
}

/**
 * Timestamp bounds. All timestamps are stored and compared as `Date#toISOString()` strings,
 * which order correctly as strings.
 */
export interface TimeRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  eq?: string;
}

export interface InstanceQuery {
  /** Instance must belong to one of these apps. */
  appIds?: string[];
  org?: string;
  /** Instance owner must be one of these parties (an authorization filter as well as a query filter). */
  partyIds?: string[];
  /** `process.currentTask.elementId`. */
  currentTask?: string;
  /** true: `process.ended` is set; false: it is not. */
  isComplete?: boolean;
  endEvent?: string;
  /** Bounds on `process.ended`. */
  processEnded?: TimeRange;
  lastChanged?: TimeRange;
  created?: TimeRange;
  dueBefore?: TimeRange;
  visibleAfter?: TimeRange;
  isArchived?: boolean;
  isSoftDeleted?: boolean;
  isHardDeleted?: boolean;
  /** Leave out instances their owner deleted after the process ended (`status.isHiddenFromOwner`). */
  excludeHiddenFromOwner?: boolean;
  /** Leave out instances whose completeConfirmations hold this stakeholder. */
  excludeConfirmedBy?: string;
  /** Only instances whose completeConfirmations hold this stakeholder. */
  confirmedBy?: string;
  /** Newest write first (sequence descending); the cursor then means strictly below. */
  descending?: boolean;
  /** Keyset cursor: only instances whose last write has a sequence strictly above this one (below, when descending). */
  after?: { sequence: number };
  limit: number;
  /**
   * The result ends with the instance that takes the size of those taken (`SequencedInstance.bytes`) to this or more,
   * even short of `limit`, so that a page of large instances stays a bounded amount of memory. Unset: no bound.
   */
  maxBytes?: number;
}

export interface EventQuery {
  eventTypes?: InstanceEventType[];
  from?: string;
  to?: string;
  /** Keyset cursor: only events after this one in the list's order (created, then id). */
  after?: { created: string; id: string };
  /** At most this many events (unset: all). */
  limit?: number;
}

export interface InstanceEventRepository {
  /** Records one event on its own: a write of its own, with a sequence of its own. */
  insert(event: InstanceEvent): Promise<void>;
  /** Events of one instance ordered by `created` ascending (ties by id). `from` inclusive, `to` inclusive. */
  list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]>;
  /** One event of the instance by its id (a lookup, however long the log); null when the instance has none such. */
  get(instanceId: string, eventId: string): Promise<InstanceEvent | null>;
  removeForInstance(instanceId: string): Promise<void>;
  /**
   * Events of committed writes with sequence in (after, watermark], ordered by (sequence, id), at most `limit`
   * except that a write's events are never split: a page ends with all events of its last write, so a reader
   * resumes with `after` = the last sequence it got.
   */
  feed(query: EventFeedQuery): Promise<SequencedInstanceEvent[]>;
}

export interface EventFeedQuery {
  /** The sequence the reader has seen everything up to (0 for the beginning). */
  after: number;
  /** Only events of instances of these apps. */
  appIds?: string[];
  limit: number;
}

/** An event with the sequence of the write that recorded it and the app of its instance. */
export type SequencedInstanceEvent = InstanceEvent & { sequence: number; appId: string };

/**
 * A blob upload in flight. Written before the first byte goes to the blob store and removed once the
 * data element is recorded (or the blob deleted), so a crash mid-upload leaves a record that the
 * reaper uses to delete the orphan blob.
 */
export interface PendingUpload {
  dataElementId: string;
  instanceGuid: string;
  blobStoragePath: string;
  started: string;
}

export interface PendingUploadRepository {
  insert(upload: PendingUpload): Promise<void>;
  remove(dataElementId: string): Promise<void>;
  /** Uploads started strictly before `started`, oldest first. */
  listStartedBefore(started: string, limit: number): Promise<PendingUpload[]>;
}
