import type { Instance, InstanceEvent, InstanceEventType, PlatformUser, Principal, ProcessState } from '@forms/contracts';
import { timeOrderedUuid } from './ids';

export function platformUser(principal: Principal): PlatformUser {
  switch (principal.kind) {
    case 'user':
      return { userId: principal.userId, authenticationLevel: principal.authLevel };
    case 'org':
      return { orgId: principal.org };
    case 'system':
      return { systemId: principal.systemId };
  }
}

export function instanceEvent(
  eventType: InstanceEventType,
  instance: Instance,
  principal: Principal,
  created: string,
  extra: { dataId?: string; processInfo?: ProcessState } = {},
): InstanceEvent {
  return {
    id: timeOrderedUuid(),
    instanceId: instance.id,
    eventType,
    created,
    instanceOwnerPartyId: instance.instanceOwner.partyId,
    user: platformUser(principal),
    ...(extra.dataId ? { dataId: extra.dataId } : {}),
    ...(extra.processInfo ? { processInfo: extra.processInfo } : {}),
  };
}

/** The audit events a process change implies, in the order they happened. */
export function processChangeEvents(before: ProcessState, after: ProcessState): InstanceEventType[] {
  const events: InstanceEventType[] = [];
  if (!before.started && after.started) events.push('process_StartEvent');
  const taskBefore = before.currentTask?.elementId;
  const taskAfter = after.currentTask?.elementId;
  if (taskBefore && taskBefore !== taskAfter) events.push('process_EndTask');
  if (taskAfter && taskAfter !== taskBefore) events.push('process_StartTask');
  if (!before.ended && after.ended) events.push('process_EndEvent', 'Submited');
  return events;
}
