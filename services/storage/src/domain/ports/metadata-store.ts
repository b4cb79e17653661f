import type { Application, Instance, InstanceEvent, InstanceEventType } from '@forms/contracts';
import type { ScanQueueRepository } from './scan-queue';

/**
 * Persistence of the storage service's metadata. Two adapters implement it: MongoDB (production) and an
 * embedded store (default). Both must pass test/contract/metadata-store.contract.ts.
 *
 * Every write that can race is guarded by a version number (optimistic concurrency), never by
 * transactions or unique secondary indexes, so the same rules hold on every adapter.
 */
export interface MetadataStore {
  readonly applications: ApplicationRepository;
  readonly instances: InstanceRepository;
  readonly events: InstanceEventRepository;
  readonly pendingUploads: PendingUploadRepository;
  /** Data elements waiting for a malware scan verdict (domain/scanning.ts). */
  readonly scanQueue: ScanQueueRepository;
  /** Connects, loads and creates indexes. Called once at start-up. */
  init(): Promise<void>;
  /** Throws when the store cannot serve requests (used by /ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

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
  /** @throws DuplicateKeyError */
  insert(application: Application): Promise<void>;
  /** Replaces the stored application if its version is still `expectedVersion`; returns false otherwise. */
  replace(application: Application, expectedVersion: number): Promise<boolean>;
}

export interface InstanceRepository {
  /** By instance guid (the part after the slash of `instance.id`). */
  get(instanceGuid: string): Promise<Instance | null>;
  /** @throws DuplicateKeyError */
  insert(instance: Instance): Promise<void>;
  /** Replaces the stored instance if its version is still `expectedVersion`; returns false otherwise. */
  replace(instance: Instance, expectedVersion: number): Promise<boolean>;
  /** Removes the instance for good. Idempotent. */
  remove(instanceGuid: string): Promise<void>;
  /** Matching instances ordered by (lastChanged, instance guid) ascending, at most `query.limit`. */
  query(query: InstanceQuery): Promise<Instance[]>;
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
  /** Keyset cursor: only instances strictly after this (lastChanged, guid) position. */
  after?: { lastChanged: string; instanceGuid: string };
  limit: number;
}

export interface EventQuery {
  eventTypes?: InstanceEventType[];
  from?: string;
  to?: string;
}

export interface InstanceEventRepository {
  insert(event: InstanceEvent): Promise<void>;
  /** Events of one instance ordered by `created` ascending (ties by id). `from` inclusive, `to` inclusive. */
  list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]>;
  removeForInstance(instanceId: string): Promise<void>;
}

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
