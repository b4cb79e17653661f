import type { Application, Instance, InstanceEvent } from '@forms/contracts';
import {
  DatabaseUnavailableError,
  DuplicateIdError,
  EmbeddedDatabase,
  type EmbeddedCollection,
  type EmbeddedDatabaseOptions,
} from '@forms/embedded-db';
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
import { assertValidLimit, instanceGuidOf, metadataStoreUnavailable as unavailable } from './metadata-support';

/**
 * MetadataStore on @forms/embedded-db: everything in memory, persisted to journal files in `dataDirectory`.
 * Instances are indexed in query order (lastChanged, guid), so a keyset page starts at its cursor by
 * binary search and stops once the page is full; events are indexed by instance, so one instance's
 * events are found without scanning the others. Other queries (applications, pending uploads) scan.
 */
export class EmbeddedMetadataStore implements MetadataStore {
  private database: EmbeddedDatabase | undefined;
  private repositories: Repositories | undefined;
  private opening: Promise<void> | undefined;

  constructor(
    private readonly dataDirectory: string,
    private readonly options: EmbeddedDatabaseOptions = {},
  ) {}

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

  init(): Promise<void> {
    // Shared, so concurrent calls cannot open the folder twice (two writers would corrupt the journals).
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<void> {
    const database = await translateErrors(() => EmbeddedDatabase.open(this.dataDirectory, this.options));
    try {
      const [applications, instances, events, pendingUploads, scanQueue] = await translateErrors(() =>
        Promise.all([
          database.collection<Application>('applications'),
          database.collection<Instance>('instances', { indexes: { orderBy: compareByLastChangedThenGuid } }),
          database.collection<InstanceEvent>('instanceEvents', { indexes: { groupBy: eventInstanceId } }),
          database.collection<PendingUpload>('pendingUploads'),
          database.collection<ScanJob>('scanQueue'),
        ]),
      );
      this.repositories = {
        applications: new EmbeddedApplicationRepository(applications),
        instances: new EmbeddedInstanceRepository(instances),
        events: new EmbeddedEventRepository(events),
        pendingUploads: new EmbeddedPendingUploadRepository(pendingUploads),
        scanQueue: new EmbeddedScanQueueRepository(scanQueue),
      };
      this.database = database;
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  async ping(): Promise<void> {
    if (!this.database) throw unavailable('the embedded metadata store is not open');
    const database = this.database;
    await translateErrors(() => database.check());
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    this.opening = undefined;
    const database = this.database;
    this.database = undefined;
    this.repositories = undefined;
    await database?.close();
  }

  private opened(): Repositories {
    if (!this.repositories) throw unavailable('the embedded metadata store is not open (call init first)');
    return this.repositories;
  }
}

interface Repositories {
  applications: ApplicationRepository;
  instances: InstanceRepository;
  events: InstanceEventRepository;
  pendingUploads: PendingUploadRepository;
  scanQueue: ScanQueueRepository;
}

class EmbeddedApplicationRepository implements ApplicationRepository {
  constructor(private readonly collection: EmbeddedCollection<Application>) {}

  async get(appId: string): Promise<Application | null> {
    return translateErrors(() => this.collection.get(appId) ?? null);
  }

  async listByOrg(org: string): Promise<Application[]> {
    return translateErrors(() => this.collection.find((application) => application.org === org, { compare: (a, b) => compareStrings(a.id, b.id) }));
  }

  async insert(application: Application): Promise<void> {
    await translateErrors(() => this.collection.insert(application.id, application));
  }

  async replace(application: Application, expectedVersion: number): Promise<boolean> {
    return translateErrors(() => this.collection.replaceIf(application.id, application, (current) => current.version === expectedVersion));
  }
}

class EmbeddedInstanceRepository implements InstanceRepository {
  constructor(private readonly collection: EmbeddedCollection<Instance>) {}

  async get(instanceGuid: string): Promise<Instance | null> {
    return translateErrors(() => this.collection.get(instanceGuid) ?? null);
  }

  async insert(instance: Instance): Promise<void> {
    await translateErrors(() => this.collection.insert(instanceGuidOf(instance), instance));
  }

  async replace(instance: Instance, expectedVersion: number): Promise<boolean> {
    return translateErrors(() =>
      this.collection.replaceIf(instanceGuidOf(instance), instance, (current) => current.version === expectedVersion),
    );
  }

  async remove(instanceGuid: string): Promise<void> {
    await translateErrors(() => this.collection.remove(instanceGuid));
  }

  async query(query: InstanceQuery): Promise<Instance[]> {
    assertValidLimit(query.limit);
    return translateErrors(() =>
      this.collection.findOrdered((instance) => matchesInstanceQuery(instance, query), { ...orderedWalkBounds(query), limit: query.limit }),
    );
  }
}

class EmbeddedEventRepository implements InstanceEventRepository {
  constructor(private readonly collection: EmbeddedCollection<InstanceEvent>) {}

  async insert(event: InstanceEvent): Promise<void> {
    await translateErrors(() => this.collection.insert(event.id, event));
  }

  async list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]> {
    const { eventTypes, from, to } = query;
    return translateErrors(() =>
      this.collection.findInGroup(
        instanceId,
        (event) =>
          (eventTypes === undefined || eventTypes.includes(event.eventType)) &&
          (from === undefined || event.created >= from) &&
          (to === undefined || event.created <= to),
        { compare: (a, b) => compareStrings(a.created, b.created) || compareStrings(a.id, b.id) },
      ),
    );
  }

  async removeForInstance(instanceId: string): Promise<void> {
    await translateErrors(() => this.collection.removeInGroup(instanceId));
  }
}

class EmbeddedPendingUploadRepository implements PendingUploadRepository {
  constructor(private readonly collection: EmbeddedCollection<PendingUpload>) {}

  async insert(upload: PendingUpload): Promise<void> {
    await translateErrors(() => this.collection.insert(upload.dataElementId, upload));
  }

  async remove(dataElementId: string): Promise<void> {
    await translateErrors(() => this.collection.remove(dataElementId));
  }

  async listStartedBefore(started: string, limit: number): Promise<PendingUpload[]> {
    assertValidLimit(limit);
    return translateErrors(() =>
      this.collection.find((upload) => upload.started < started, {
        compare: (a, b) => compareStrings(a.started, b.started) || compareStrings(a.dataElementId, b.dataElementId),
        limit,
      }),
    );
  }
}

class EmbeddedScanQueueRepository implements ScanQueueRepository {
  constructor(private readonly collection: EmbeddedCollection<ScanJob>) {}

  async put(job: ScanJob): Promise<void> {
    await translateErrors(() => this.collection.put(job.dataElementId, job));
  }

  async remove(dataElementId: string): Promise<void> {
    await translateErrors(() => this.collection.remove(dataElementId));
  }

  async listDue(now: string, limit: number): Promise<ScanJob[]> {
    assertValidLimit(limit);
    return translateErrors(() =>
      this.collection.find((job) => job.due <= now, {
        compare: (a, b) => compareStrings(a.due, b.due) || compareStrings(a.dataElementId, b.dataElementId),
        limit,
      }),
    );
  }
}

/** The InstanceQuery semantics in plain JavaScript; the Mongo adapter expresses the same as a filter document. */
export function matchesInstanceQuery(instance: Readonly<Instance>, query: InstanceQuery): boolean {
  const { process, status } = instance;
  if (query.appIds !== undefined && !query.appIds.includes(instance.appId)) return false;
  if (query.org !== undefined && instance.org !== query.org) return false;
  if (query.partyIds !== undefined && !query.partyIds.includes(instance.instanceOwner.partyId)) return false;
  if (query.currentTask !== undefined && process.currentTask?.elementId !== query.currentTask) return false;
  if (query.isComplete !== undefined && (process.ended != null) !== query.isComplete) return false;
  if (query.endEvent !== undefined && process.endEvent !== query.endEvent) return false;
  if (!isInRange(instance.lastChanged, query.lastChanged)) return false;
  if (!isInRange(instance.created, query.created)) return false;
  if (!isInRange(instance.dueBefore, query.dueBefore)) return false;
  if (!isInRange(instance.visibleAfter, query.visibleAfter)) return false;
  if (query.isArchived !== undefined && status.isArchived !== query.isArchived) return false;
  if (query.isSoftDeleted !== undefined && status.isSoftDeleted !== query.isSoftDeleted) return false;
  if (query.isHardDeleted !== undefined && status.isHardDeleted !== query.isHardDeleted) return false;
  if (query.excludeHiddenFromOwner && status.isHiddenFromOwner === true) return false;
  if (query.excludeConfirmedBy !== undefined && instance.completeConfirmations.some((c) => c.stakeholderId === query.excludeConfirmedBy)) {
    return false;
  }
  if (query.after !== undefined && compareByLastChangedThenGuid(instance, query.after) <= 0) return false;
  return true;
}

const eventInstanceId = (event: Readonly<InstanceEvent>): string => event.instanceId;

/**
 * Where the walk over the instances in (lastChanged, guid) order may start and stop: after the keyset
 * cursor and before the lower lastChanged bound nothing can match, nor after the upper bound. Each test
 * is monotone along the order, as `findOrdered` requires. Every instance still goes through
 * `matchesInstanceQuery`, so the bounds only save work and never change the result.
 */
function orderedWalkBounds(query: InstanceQuery): { after?: (instance: Readonly<Instance>) => boolean; until?: (instance: Readonly<Instance>) => boolean } {
  const cursor = query.after;
  const { gt, gte, lt, lte, eq } = query.lastChanged ?? {};
  const lowerBounds: ((instance: Readonly<Instance>) => boolean)[] = [];
  if (cursor !== undefined) lowerBounds.push((instance) => compareByLastChangedThenGuid(instance, cursor) <= 0);
  if (gt !== undefined) lowerBounds.push((instance) => instance.lastChanged <= gt);
  if (gte !== undefined) lowerBounds.push((instance) => instance.lastChanged < gte);
  if (eq !== undefined) lowerBounds.push((instance) => instance.lastChanged < eq);
  const upperBounds: ((instance: Readonly<Instance>) => boolean)[] = [];
  if (lt !== undefined) upperBounds.push((instance) => instance.lastChanged >= lt);
  if (lte !== undefined) upperBounds.push((instance) => instance.lastChanged > lte);
  if (eq !== undefined) upperBounds.push((instance) => instance.lastChanged > eq);
  return {
    after: lowerBounds.length === 0 ? undefined : (instance) => lowerBounds.some((test) => test(instance)),
    until: upperBounds.length === 0 ? undefined : (instance) => upperBounds.some((test) => test(instance)),
  };
}

/** A missing or null timestamp fails every bound, as in MongoDB. */
function isInRange(value: string | null | undefined, range: TimeRange | undefined): boolean {
  if (range === undefined) return true;
  const hasBound = range.gt !== undefined || range.gte !== undefined || range.lt !== undefined || range.lte !== undefined || range.eq !== undefined;
  if (!hasBound) return true;
  if (value == null) return false;
  return (
    (range.gt === undefined || value > range.gt) &&
    (range.gte === undefined || value >= range.gte) &&
    (range.lt === undefined || value < range.lt) &&
    (range.lte === undefined || value <= range.lte) &&
    (range.eq === undefined || value === range.eq)
  );
}

type OrderPosition = { lastChanged: string } & ({ id: string } | { instanceGuid: string });

const guidOfPosition = (position: OrderPosition): string => ('instanceGuid' in position ? position.instanceGuid : instanceGuidOf(position));

/** Query order: (lastChanged, instance guid), both compared as plain strings (code units), as MongoDB does. */
function compareByLastChangedThenGuid(a: OrderPosition, b: OrderPosition): number {
  return compareStrings(a.lastChanged, b.lastChanged) || compareStrings(guidOfPosition(a), guidOfPosition(b));
}

/** Code-unit order (not locale order), which is how ISO timestamps and MongoDB's string comparison order. */
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Maps the embedded database's errors to what the MetadataStore contract and the error handler understand. */
async function translateErrors<T>(operation: () => T | Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof DuplicateIdError) throw new DuplicateKeyError(error.id);
    if (error instanceof DatabaseUnavailableError) throw unavailable(`metadata store unavailable: ${error.message}`, error);
    throw error;
  }
}
