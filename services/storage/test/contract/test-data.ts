import { randomUUID } from 'node:crypto';
import type {
  Application,
  CompleteConfirmation,
  Instance,
  InstanceEvent,
  InstanceEventType,
  InstanceStatus,
  ProcessState,
} from '@forms/contracts';
import type { PendingUpload } from '../../src/domain/ports/metadata-store';

const BASE_TIME = Date.parse('2024-05-01T10:00:00.000Z');

/** A timestamp `minutes` after a fixed base, in the stored ISO form. */
export const at = (minutes: number): string => new Date(BASE_TIME + minutes * 60_000).toISOString();

export interface InstanceSpec {
  guid?: string;
  partyId?: string;
  /** `<org>/<app>`; the org is taken from it. */
  appId?: string;
  created?: string;
  lastChanged?: string;
  dueBefore?: string | null;
  visibleAfter?: string | null;
  process?: ProcessState;
  status?: Partial<InstanceStatus>;
  completeConfirmations?: CompleteConfirmation[];
  version?: number;
}

/** A process in its first task, not ended. */
export const processInTask = (elementId: string, started = at(0)): ProcessState => ({
  started,
  startEvent: 'StartEvent_1',
  currentTask: { flow: 2, started, elementId, name: elementId, altinnTaskType: 'data', ended: null },
  ended: null,
  endEvent: null,
});

export const endedProcess = (endEvent: string, ended: string): ProcessState => ({
  started: at(0),
  startEvent: 'StartEvent_1',
  currentTask: null,
  ended,
  endEvent,
});

/** An instance with every required member filled; `spec` overrides what a test cares about. */
export function buildInstance(spec: InstanceSpec = {}): Instance {
  const guid = spec.guid ?? randomUUID();
  const partyId = spec.partyId ?? '50001';
  const appId = spec.appId ?? 'acme/tax-return';
  const org = appId.split('/')[0] ?? 'acme';
  const created = spec.created ?? at(0);
  const lastChanged = spec.lastChanged ?? created;
  const instance: Instance = {
    id: `${partyId}/${guid}`,
    instanceOwner: { partyId, personNumber: '01017012345' },
    appId,
    org,
    selfLinks: { platform: `https://platform.example/storage/api/v1/instances/${partyId}/${guid}` },
    process: spec.process ?? processInTask('Task_1', created),
    status: {
      isArchived: false,
      archived: null,
      isSoftDeleted: false,
      softDeleted: null,
      isHardDeleted: false,
      hardDeleted: null,
      readStatus: 'Unread',
      substatus: null,
      ...spec.status,
    },
    completeConfirmations: spec.completeConfirmations ?? [],
    data: [
      {
        id: randomUUID(),
        instanceGuid: guid,
        dataType: 'model',
        filename: 'model.json',
        contentType: 'application/json',
        blobStoragePath: `${appId}/${guid}/data/model`,
        size: 42,
        contentHash: 'a'.repeat(64),
        locked: false,
        isRead: true,
        tags: ['draft'],
        version: 1,
        created,
        createdBy: '1337',
        lastChanged: created,
        lastChangedBy: '1337',
      },
    ],
    dataValues: { reference: 'REF-1', empty: null },
    version: spec.version ?? 1,
    created,
    createdBy: '1337',
    lastChanged,
    lastChangedBy: '1337',
  };
  // Only set when given, so tests can tell an absent member from a null one.
  if (spec.dueBefore !== undefined) instance.dueBefore = spec.dueBefore;
  if (spec.visibleAfter !== undefined) instance.visibleAfter = spec.visibleAfter;
  return instance;
}

/** The guid part of `instance.id`. */
export const guidOf = (instance: Instance): string => instance.id.split('/')[1] ?? '';

export function buildApplication(appId: string, overrides: Partial<Application> = {}): Application {
  const org = appId.split('/')[0] ?? 'acme';
  return {
    id: appId,
    org,
    title: { nb: `App ${appId}`, en: `App ${appId}` },
    dataTypes: [
      { id: 'model', allowedContentTypes: ['application/json'], maxSize: 5, maxCount: 1, minCount: 1, taskId: 'Task_1', appLogic: { autoCreate: true } },
      { id: 'attachment', maxCount: 0, minCount: 0 },
    ],
    partyTypesAllowed: { bankruptcyEstate: false, organisation: true, person: true, subUnit: false },
    version: 1,
    created: at(0),
    createdBy: 'admin',
    lastChanged: at(0),
    lastChangedBy: 'admin',
    ...overrides,
  };
}

export function buildEvent(instance: Instance, eventType: InstanceEventType, created: string, id: string = randomUUID()): InstanceEvent {
  return {
    id,
    instanceId: instance.id,
    eventType,
    created,
    instanceOwnerPartyId: instance.instanceOwner.partyId,
    user: { userId: '1337', authenticationLevel: 2 },
    processInfo: instance.process,
  };
}

export function buildPendingUpload(started: string, dataElementId: string = randomUUID()): PendingUpload {
  const instanceGuid = randomUUID();
  return { dataElementId, instanceGuid, blobStoragePath: `acme/tax-return/${instanceGuid}/data/${dataElementId}`, started };
}

/** Code-unit string order, the order the stores sort guids in. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
