import type {
  DataValues,
  Instance,
  InstanceEvent,
  InstanceEventType,
  Principal,
  ProcessState,
  ReadStatus,
  Substatus,
} from '@forms/contracts';
import type { EventQuery } from './ports/metadata-store';
import { authorizeInstance, authorizeOrgOnly, principalId, type Access } from './authorization';
import { StorageErrors } from './errors';
import { instanceEvent, processChangeEvents } from './events';
import { removeBlobsDurably } from './blob-cleanup';
import type { StorageContext } from './storage-context';

export interface InstanceRef {
  partyId: string;
  instanceGuid: string;
}

/** What a change returns when the instance already is as asked: nothing is written, the version stays. */
export const UNCHANGED = Symbol('unchanged');

/** A change to apply to a loaded instance; returns the audit events it implies, or UNCHANGED. */
export type InstanceChange = (
  draft: Instance,
  now: string,
) => InstanceEventType[] | typeof UNCHANGED | Promise<InstanceEventType[] | typeof UNCHANGED>;

export interface ChangeOptions {
  access: Access;
  /** Version the caller last saw (from If-Match); a different current version fails with 412. */
  expectedVersion?: number;
  /** Lets only the owning org make the change. */
  orgOnly?: boolean;
  dataId?: string;
  /** Pending uploads whose blobs this change makes referenced: settled with it. */
  settledUploads?: string[];
}

/** Concurrent writers without If-Match retry this often before giving up with 409. */
const MAX_WRITE_ATTEMPTS = 8;

export class InstanceService {
  constructor(private readonly ctx: StorageContext) {}

  selfLink(instanceId: string): string {
    return `${this.ctx.apiBaseUrl}/instances/${instanceId}`;
  }

  /** Loads an instance the principal may access; strangers get not-found. */
  async get(principal: Principal, ref: InstanceRef, access: Access = 'read'): Promise<Instance> {
    const instance = await this.load(ref);
    authorizeInstance(principal, instance, access);
    return instance;
  }

  /**
   * Read-modify-write with optimistic concurrency. With `expectedVersion` a stale caller gets 412;
   * without it concurrent writers are retried, so independent changes never overwrite each other.
   * The version is checked before the change is looked at, so a stale caller gets 412 even when the
   * change would have been a no-op.
   */
  async change(principal: Principal, ref: InstanceRef, options: ChangeOptions, apply: InstanceChange): Promise<Instance> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.get(principal, ref, options.access);
      if (options.orgOnly) authorizeOrgOnly(principal, current.org, options.access);
      if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
        throw StorageErrors.versionMismatch(current.version);
      }
      const now = this.ctx.clock();
      const draft = structuredClone(current);
      const events = await apply(draft, now);
      if (events === UNCHANGED) return current;
      draft.version = current.version + 1;
      draft.lastChanged = now;
      draft.lastChangedBy = principalId(principal);
      const write = { events: this.buildEvents(events, draft, principal, now, options.dataId), settledUploads: options.settledUploads ?? [] };
      if (await this.ctx.store.instances.replace(draft, current.version, write)) return draft;
    }
    throw StorageErrors.writeConflict();
  }

  async updateProcess(principal: Principal, ref: InstanceRef, process: ProcessState, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', ...(expectedVersion !== undefined && { expectedVersion }) }, async (draft) => {
      if (draft.status.isSoftDeleted) throw StorageErrors.instanceLocked('The instance is deleted.');
      const events = processChangeEvents(draft.process, process);
      const endedTask = draft.process.currentTask?.elementId;
      if (endedTask && endedTask !== process.currentTask?.elementId) await this.lockDataOfTask(draft, endedTask);
      draft.process = process;
      return events;
    });
  }

  /** Data of a task is frozen once the process leaves that task, as in Altinn. */
  private async lockDataOfTask(draft: Instance, taskId: string): Promise<void> {
    const application = await this.ctx.store.applications.get(draft.appId);
    const typesOfTask = new Set(application?.dataTypes.filter((t) => t.taskId === taskId).map((t) => t.id));
    for (const element of draft.data) if (typesOfTask.has(element.dataType)) element.locked = true;
  }

  async setSubstatus(principal: Principal, ref: InstanceRef, substatus: Substatus, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', orgOnly: true, ...(expectedVersion !== undefined && { expectedVersion }) }, (draft) => {
      draft.status.substatus = substatus;
      return ['Saved'];
    });
  }

  async setReadStatus(principal: Principal, ref: InstanceRef, readStatus: ReadStatus, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'read', ...(expectedVersion !== undefined && { expectedVersion }) }, (draft) => {
      draft.status.readStatus = readStatus;
      return ['Saved'];
    });
  }

  async setDataValues(principal: Principal, ref: InstanceRef, values: DataValues, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', ...(expectedVersion !== undefined && { expectedVersion }) }, (draft) => {
      // A null value removes the key, as in Altinn.
      for (const [key, value] of Object.entries(values)) {
        if (value === null) delete draft.dataValues[key];
        else draft.dataValues[key] = value;
      }
      return ['Saved'];
    });
  }

  /** The app owner confirms it has downloaded the instance. Idempotent: a second confirmation changes nothing. */
  async confirmComplete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', orgOnly: true, ...(expectedVersion !== undefined && { expectedVersion }) }, (draft, now) => {
      if (draft.completeConfirmations.some((c) => c.stakeholderId === draft.org)) return UNCHANGED;
      draft.completeConfirmations.push({ stakeholderId: draft.org, confirmedOn: now });
      return ['ConfirmedComplete'];
    });
  }

  async softDelete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', ...(expectedVersion !== undefined && { expectedVersion }) }, (draft, now) => {
      if (draft.status.isSoftDeleted) return [];
      draft.status.isSoftDeleted = true;
      draft.status.softDeleted = now;
      return ['Deleted'];
    });
  }

  /**
   * Removes the instance and its blobs for good; its audit events are kept. Blobs are journalled for
   * deletion first, so a crash half-way leaves nothing the reaper cannot finish.
   */
  async hardDelete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<void> {
    const instance = await this.get(principal, ref, 'write');
    if (expectedVersion !== undefined && expectedVersion !== instance.version) throw StorageErrors.versionMismatch(instance.version);
    await removeBlobsDurably(this.ctx, instance, instance.data.map((d) => d.blobStoragePath), async () => {
      await this.ctx.store.instances.remove(ref.instanceGuid, { events: this.buildEvents(['Deleted'], instance, principal, this.ctx.clock()) });
    });
  }

  async listEvents(principal: Principal, ref: InstanceRef, query: EventQuery): Promise<InstanceEvent[]> {
    const instance = await this.get(principal, ref, 'read');
    return this.ctx.store.events.list(instance.id, query);
  }

  private async load(ref: InstanceRef): Promise<Instance> {
    const instance = await this.ctx.store.instances.get(ref.instanceGuid);
    // The party in the URL must be the owner: otherwise the id is a guess at someone else's instance.
    if (!instance || instance.instanceOwner.partyId !== ref.partyId) throw StorageErrors.instanceNotFound();
    return instance;
  }

  private buildEvents(types: InstanceEventType[], instance: Instance, principal: Principal, now: string, dataId?: string): InstanceEvent[] {
    return types.map((type) =>
      instanceEvent(type, instance, principal, now, {
        ...(dataId && { dataId }),
        ...(type.startsWith('process_') || type === 'Submited' ? { processInfo: instance.process } : {}),
      }),
    );
  }
}

