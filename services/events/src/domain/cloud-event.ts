import type { CloudEvent } from '@forms/contracts';
import type { FeedEvent } from './ports/storage-feed';

/** A CloudEvents 1.0 event as the events service relays, stores and sends it (the wire schema is in contracts). */
export type { CloudEvent };

export const EventTypes = {
  created: 'app.instance.created',
  completed: 'app.instance.process.completed',
  movedTo: (taskId: string) => `app.instance.process.movedTo.${taskId}`,
  substatusChanged: 'app.instance.substatus.changed',
  confirmed: 'platform.instance.confirmed',
  validateSubscription: 'platform.events.validatesubscription',
} as const;

/** Where an app's instances are reached (its app host), by app id. */
export type AppBaseUrl = (appId: string) => string;

export function appBaseUrlResolver(template: string, overrides: ReadonlyMap<string, string>): AppBaseUrl {
  return (appId) => {
    const [org = '', app = ''] = appId.split('/');
    return overrides.get(appId) ?? template.replace('{org}', org).replace('{app}', app).replace(/\/$/, '');
  };
}

/** The URL of an app: a sourceFilter names it, and every instance URL of the app starts with it. */
export const appUrl = (base: AppBaseUrl, appId: string): string => `${base(appId)}/${appId}`;

export const resourceOf = (appId: string): string => `urn:altinn:resource:app_${appId.replace('/', '_')}`;

/**
 * The one event a write of storage yields, or none: a write that created the instance is `created` (its process
 * start included), one that ended the process `completed`, one that entered a task `movedTo.<task>`, the org's
 * download confirmation `confirmed`, its substatus `substatus.changed`. Other writes (data, read status, ...) yield nothing. One event per write
 * keeps storage's sequence as the event's own: unique, and in commit order.
 */
export function eventTypeOfWrite(write: readonly FeedEvent[]): { type: string; cause: FeedEvent } | undefined {
  const find = (eventType: string) => write.find((event) => event.eventType === eventType);
  const created = find('Created');
  if (created) return { type: EventTypes.created, cause: created };
  const ended = find('process_EndEvent');
  if (ended) return { type: EventTypes.completed, cause: ended };
  const startedTask = find('process_StartTask');
  const taskId = startedTask?.processInfo?.currentTask?.elementId;
  if (startedTask && taskId) return { type: EventTypes.movedTo(taskId), cause: startedTask };
  const confirmed = find('ConfirmedComplete');
  if (confirmed) return { type: EventTypes.confirmed, cause: confirmed };
  const substatus = find('SubstatusUpdated');
  if (substatus) return { type: EventTypes.substatusChanged, cause: substatus };
  return undefined;
}

export function toCloudEvent(write: readonly FeedEvent[], base: AppBaseUrl): CloudEvent | undefined {
  const found = eventTypeOfWrite(write);
  if (!found) return undefined;
  const { type, cause } = found;
  return {
    specversion: '1.0',
    // The audit event's id: the same write relayed twice is the same event.
    id: cause.id,
    type,
    source: `${appUrl(base, cause.appId)}/instances/${cause.instanceId}`,
    subject: `/party/${cause.instanceOwnerPartyId}`,
    time: cause.created,
    resource: resourceOf(cause.appId),
    sequence: String(cause.sequence),
  };
}

/** Storage's feed events grouped by write (same sequence), in order. */
export function groupByWrite(events: readonly FeedEvent[]): FeedEvent[][] {
  const writes: FeedEvent[][] = [];
  for (const event of events) {
    const last = writes[writes.length - 1];
    if (last && last[0]?.sequence === event.sequence) last.push(event);
    else writes.push([event]);
  }
  return writes;
}
