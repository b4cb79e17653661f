import { Type, type Static } from '@sinclair/typebox';
import { Guid, InstanceId, Timestamp } from './common';
import { ProcessState } from './process';

/**
 * Event types of the instance audit log; the spellings follow Altinn's, including `Submited`.
 * `Saved` records a change of the instance's own metadata (read status, data values), `SubstatusUpdated` the org's substatus;
 * data element changes have their own types and carry `dataId`.
 */
export const INSTANCE_EVENT_TYPES = [
  'Created',
  'Saved',
  'Deleted',
  'Undeleted',
  'ConfirmedComplete',
  'SubstatusUpdated',
  'Submited',
  'Signed',
  'process_StartEvent',
  'process_StartTask',
  'process_EndTask',
  'process_AbandonTask',
  'process_EndEvent',
  'DataCreated',
  'DataUpdated',
  'DataDeleted',
  'DataFileScanInfected',
] as const;
export type InstanceEventType = (typeof INSTANCE_EVENT_TYPES)[number];
export const InstanceEventTypeSchema = Type.Union(INSTANCE_EVENT_TYPES.map((t) => Type.Literal(t)));

export const PlatformUser = Type.Object({
  userId: Type.Optional(Type.String()),
  orgId: Type.Optional(Type.String()),
  systemId: Type.Optional(Type.String()),
  authenticationLevel: Type.Optional(Type.Integer()),
  /** The app service (`<org>/<app>`) the party acted through, or whose own token made the change. */
  appId: Type.Optional(Type.String()),
});
export type PlatformUser = Static<typeof PlatformUser>;

export const InstanceEvent = Type.Object(
  {
    id: Guid,
    instanceId: InstanceId,
    dataId: Type.Optional(Guid),
    eventType: InstanceEventTypeSchema,
    created: Timestamp,
    instanceOwnerPartyId: Type.String(),
    user: PlatformUser,
    processInfo: Type.Optional(ProcessState),
  },
  { title: 'InstanceEvent' },
);
export type InstanceEvent = Static<typeof InstanceEvent>;

export const InstanceEventList = Type.Object({ instanceEvents: Type.Array(InstanceEvent) });
export type InstanceEventList = Static<typeof InstanceEventList>;

/** Body of `POST .../events`: an app records an event of its own on the instance. */
export const InstanceEventInput = Type.Object(
  {
    eventType: InstanceEventTypeSchema,
    dataId: Type.Optional(Guid),
    processInfo: Type.Optional(ProcessState),
    created: Type.Optional(Timestamp),
  },
  { additionalProperties: true, description: 'Altinn sends a whole InstanceEvent; storage sets id, instanceId, owner and user itself.' },
);
export type InstanceEventInput = Static<typeof InstanceEventInput>;

/** One step of the process as Altinn's `ProcessHistoryItem` shows it (its spelling `occured` included). */
export const ProcessHistoryItem = Type.Object(
  {
    eventType: Type.String(),
    elementId: Type.Union([Type.String(), Type.Null()]),
    occured: Timestamp,
    started: Type.Union([Timestamp, Type.Null()]),
    ended: Type.Union([Timestamp, Type.Null()]),
    /** The user, system or org whose change it was. */
    performedBy: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'ProcessHistoryItem' },
);
export type ProcessHistoryItem = Static<typeof ProcessHistoryItem>;
export const ProcessHistoryList = Type.Object({ processHistory: Type.Array(ProcessHistoryItem) }, { title: 'ProcessHistoryList' });
export type ProcessHistoryList = Static<typeof ProcessHistoryList>;
