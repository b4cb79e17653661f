import { timeOrderedUuid, type Instance, type InstanceEvent, type InstanceEventType, type PlatformUser, type Principal, type ProcessState } from '@forms/contracts';
import { appOf } from './authorization';

/** Who made a change: the party (or org), and the app service it acted through. */
export function platformUser(principal: Principal): PlatformUser {
  const app = appOf(principal);
  const through = app !== undefined ? { appId: app } : {};
  switch (principal.kind) {
    case 'user':
      return { userId: principal.userId, authenticationLevel: principal.authLevel, ...through };
    case 'org':
      return { orgId: principal.org, ...through };
    case 'system':
      return { systemId: principal.systemId, ...through };
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
