import {
  principalId,
  type Application,
  type DataValues,
  type Instance,
  type InstanceEvent,
  type InstanceEventType,
  type Principal,
  type PresentationTexts,
  type ProcessState,
  type ReadStatus,
  type Substatus,
} from '@forms/contracts';
import type { EventQuery, InlineContent } from './ports/metadata-store';
import { authorizeInstance, requireRole, type Access, type Role } from './authorization';
import { StorageErrors } from './errors';
import { instanceEvent } from './events';
import { checkProcessChange, processChangeEvents, type ProcessEvent } from './process-rules';
import { removeBlobsDurably } from './blob-cleanup';
import { withoutEmptyTexts } from './instance-texts';
import { assertChangeWithinLimits, type InstanceLimits } from './instance-limits';
import { eventPages } from './event-pages';
import type { StorageContext } from './storage-context';
import { backOff, changeTime, MAX_WRITE_ATTEMPTS, sameDocument } from './write-retry';

export interface InstanceRef {
  partyId: string;
  instanceGuid: string;
}

/** An audit event to record: its type, or a process event with the state it names. */
export type AuditEvent = InstanceEventType | ProcessEvent;

/** What a change returns when the instance already is as asked: nothing is written, the version stays. */
export const UNCHANGED = Symbol('unchanged');

/** A change to apply to a loaded instance, by a caller in `role`; returns the audit events it implies, or UNCHANGED. */
export type InstanceChange = (
  draft: Instance,
  now: string,
  role: Role,
) => AuditEvent[] | typeof UNCHANGED | Promise<AuditEvent[] | typeof UNCHANGED>;

export interface ChangeOptions {
  access: Access;
  /** Version the caller last saw (from If-Match); a different current version fails with 412. */
  expectedVersion?: number;
  /** The roles that may make the change (default: any stakeholder with the access scope), and what it is. */
  roles?: readonly Role[];
  action?: string;
  dataId?: string;
  /** Pending uploads whose blobs this change makes referenced: settled with it. */
  settledUploads?: string[];
  /** Small content the change refers to, kept in the metadata store with it (ADR 0018). */
  inlineContents?: InlineContent[];
}


export class InstanceService {
  constructor(
    private readonly ctx: StorageContext,
    readonly limits: InstanceLimits,
  ) {}

  selfLink(instanceId: string): string {
    return `${this.ctx.apiBaseUrl}/instances/${instanceId}`;
  }

  /** Loads an instance the principal may access; strangers get not-found. */
  async get(principal: Principal, ref: InstanceRef, access: Access = 'read'): Promise<Instance> {
    return (await this.getWithRole(principal, ref, access)).instance;
  }

  /** Loads an instance the principal may access, with the principal's role on it. */
  async getWithRole(principal: Principal, ref: InstanceRef, access: Access = 'read'): Promise<{ instance: Instance; role: Role }> {
    const instance = await this.load(ref);
    const role = authorizeInstance(principal, instance, access);
    // Hard-deleted: only the org still sees it, until the cleanup job removes it.
    if (instance.status.isHardDeleted && role !== 'org') throw StorageErrors.instanceNotFound();
    return { instance, role };
  }

  /**
   * Read-modify-write with optimistic concurrency. With `expectedVersion` a stale caller gets 412;
   * without it concurrent writers are retried, so independent changes never overwrite each other.
   * The version is checked before the change is looked at, so a stale caller gets 412 even when the
   * change would have been a no-op. A change that leaves the instance as it was writes nothing: no
   * version, no lastChanged, no event, so nobody's ETag goes stale and the instance keeps its place.
   */
  async change(principal: Principal, ref: InstanceRef, options: ChangeOptions, apply: InstanceChange): Promise<Instance> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      if (attempt > 1) await backOff(attempt - 1);
      const { instance: current, role } = await this.getWithRole(principal, ref, options.access);
      if (options.roles) requireRole(role, options.roles, options.action ?? 'make this change');
      if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
        throw StorageErrors.versionMismatch(current.version);
      }
      const now = changeTime(this.ctx.clock(), current.lastChanged);
      const draft = structuredClone(current);
      const events = await apply(draft, now, role);
      if (events === UNCHANGED || sameDocument(draft, current)) return current;
      draft.version = current.version + 1;
      draft.lastChanged = now;
      draft.lastChangedBy = principalId(principal);
      const json = assertChangeWithinLimits(draft, current, this.limits);
      const write = {
        events: this.buildEvents(events, draft, principal, now, options.dataId),
        settledUploads: options.settledUploads ?? [],
        inlineContents: options.inlineContents ?? [],
        json,
      };
      if (await this.ctx.store.instances.replace(draft, current.version, write)) return draft;
    }
    throw StorageErrors.writeConflict();
  }

  /** Only the app moves the process, and only to a coherent state of its registered process. */
  async updateProcess(principal: Principal, ref: InstanceRef, process: ProcessState, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['app'], action: 'change the process', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, async (draft, now) => {
      if (draft.status.isSoftDeleted) throw StorageErrors.instanceLocked('The instance is deleted.');
      const application = await this.ctx.store.applications.get(draft.appId);
      checkProcessChange(application ?? {}, draft.process, process);
      const events = processChangeEvents(draft.process, process, now);
      // The end of the process archives the instance (Altinn's isArchived/archived).
      if (process.ended && !draft.process.ended) {
        draft.status.isArchived = true;
        draft.status.archived = process.ended;
      }
      const endedTask = draft.process.currentTask?.elementId;
      const enteredTask = process.currentTask?.elementId;
      if (endedTask !== enteredTask) {
        if (endedTask) setLockOfTaskData(application, draft, endedTask, true);
        // A process sent back (a `reject` branch) enters a task it left before: its data is open again.
        if (enteredTask) setLockOfTaskData(application, draft, enteredTask, false);
      }
      draft.process = process;
      return events;
    });
  }

  async setSubstatus(principal: Principal, ref: InstanceRef, substatus: Substatus, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['org'], action: 'set the substatus', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft) => {
      draft.status.substatus = substatus;
      return ['SubstatusUpdated'];
    });
  }

  /** The owner's own marker: set by the party (or the app for it) with a token that may write. */
  async setReadStatus(principal: Principal, ref: InstanceRef, readStatus: ReadStatus, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['party', 'app'], action: 'set the read status', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft) => {
      draft.status.readStatus = readStatus;
      return ['Saved'];
    });
  }

  async setDataValues(principal: Principal, ref: InstanceRef, values: DataValues, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['app', 'org'], action: 'set data values', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft) => {
      // A null value removes the key, as in Altinn.
      for (const [key, value] of Object.entries(values)) {
        if (value === null) delete draft.dataValues[key];
        else draft.dataValues[key] = value;
      }
      return ['Saved'];
    });
  }

  /** Altinn's presentation texts: set by the app (or the org); an empty value removes a text. */
  async setPresentationTexts(principal: Principal, ref: InstanceRef, texts: PresentationTexts, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['app', 'org'], action: 'set presentation texts', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft) => {
      draft.presentationTexts = withoutEmptyTexts(draft.presentationTexts ?? {}, texts);
      return ['Saved'];
    });
  }

  /**
   * Altinn's undelete: the owner restores an instance it deleted (soft), as long as it is not hard-deleted.
   * Restoring one that is not deleted changes nothing.
   */
  async restore(principal: Principal, ref: InstanceRef): Promise<Instance> {
    const options = { access: 'write', roles: ['party', 'app'], action: 'restore a deleted instance' } as const;
    return this.change(principal, ref, options, (draft) => {
      if (!draft.status.isSoftDeleted && !draft.status.isHiddenFromOwner) return UNCHANGED;
      draft.status.isSoftDeleted = false;
      draft.status.softDeleted = null;
      delete draft.status.isHiddenFromOwner;
      return ['Undeleted'];
    });
  }

  /** The app owner confirms it has downloaded the instance. Idempotent: a second confirmation changes nothing. */
  async confirmComplete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', roles: ['org'], action: 'confirm the download', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft, now) => {
      if (draft.completeConfirmations.some((c) => c.stakeholderId === draft.org)) return UNCHANGED;
      draft.completeConfirmations.push({ stakeholderId: draft.org, confirmedOn: now });
      return ['ConfirmedComplete'];
    });
  }

  /**
   * Soft delete. Once the process has ended the instance is the org's to handle: the owner's delete then only
   * hides it from the owner's lists, never from the org's queries.
   */
  async softDelete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<Instance> {
    return this.change(principal, ref, { access: 'write', ...(expectedVersion !== undefined && { expectedVersion }) }, (draft, now, role) => {
      if (role !== 'org' && draft.process.ended) {
        if (draft.status.isHiddenFromOwner) return [];
        draft.status.isHiddenFromOwner = true;
        return ['Deleted'];
      }
      if (draft.status.isSoftDeleted) return [];
      draft.status.isSoftDeleted = true;
      draft.status.softDeleted = now;
      return ['Deleted'];
    });
  }

  /**
   * Altinn's hard delete: marks the instance hard-deleted (and soft-deleted) and answers with it; the cleanup job
   * removes it and its content once the retention period has passed (domain/hard-delete-cleanup.ts). The org may;
   * the app only while the process has not ended (a failed instantiation, say); a party never.
   */
  async hardDelete(principal: Principal, ref: InstanceRef, expectedVersion?: number): Promise<Instance> {
    const options = { access: 'write', ...(expectedVersion !== undefined && { expectedVersion }) } as const;
    return this.change(principal, ref, options, (draft, now, role) => {
      if (role === 'party' || (role === 'app' && draft.process.ended)) throw StorageErrors.orgRequired('delete this instance for good');
      if (draft.status.isHardDeleted) return UNCHANGED;
      draft.status.isHardDeleted = true;
      draft.status.hardDeleted = now;
      draft.status.isSoftDeleted = true;
      draft.status.softDeleted ??= now;
      return ['Deleted'];
    });
  }

  /** Removes a hard-deleted instance and its blobs for good; its audit events are kept. Crash-safe (blobs journalled first). */
  async purge(instance: Instance): Promise<void> {
    await removeBlobsDurably(this.ctx, instance, instance.data.map((d) => d.blobStoragePath), async () => {
      await this.ctx.store.instances.remove(instance.id.split('/')[1] as string);
    });
  }

  /** The instance's events page by page, once the principal is known to see the instance. */
  async listEvents(principal: Principal, ref: InstanceRef, query: EventQuery): Promise<AsyncGenerator<InstanceEvent[], void, undefined>> {
    const instance = await this.get(principal, ref, 'read');
    return eventPages(this.ctx.store.events, instance.id, query);
  }

  private async load(ref: InstanceRef): Promise<Instance> {
    const instance = await this.ctx.store.instances.get(ref.instanceGuid);
    // The party in the URL must be the owner: otherwise the id is a guess at someone else's instance.
    if (!instance || instance.instanceOwner.partyId !== ref.partyId) throw StorageErrors.instanceNotFound();
    return instance;
  }

  private buildEvents(events: AuditEvent[], instance: Instance, principal: Principal, now: string, dataId?: string): InstanceEvent[] {
    return events.map((event) => {
      const { type, processInfo } = typeof event === 'string' ? { type: event, processInfo: undefined } : event;
      return instanceEvent(type, instance, principal, now, { ...(dataId && { dataId }), ...(processInfo && { processInfo }) });
    });
  }
}

/** Data of a task is frozen once the process leaves that task, and open while the process is in it, as in Altinn. */
function setLockOfTaskData(application: Application | null, draft: Instance, taskId: string, locked: boolean): void {
  const typesOfTask = new Set(application?.dataTypes.filter((type) => type.taskId === taskId).map((type) => type.id));
  for (const element of draft.data) if (typesOfTask.has(element.dataType)) element.locked = locked;
}
