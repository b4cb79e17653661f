import { DomainError, Scopes, type Principal } from '@forms/contracts';
import type { CloudEvent } from './cloud-event';
import type { EventStore } from './ports/event-store';

export interface PullQuery {
  after: number;
  type?: string;
  subject?: string;
  size: number;
}

/**
 * The pull feed of one app: its events in sequence order after a position the caller keeps. The org reads its
 * own apps' events (scope altinn:events.subscribe or its service-owner read scope); a party only its own.
 */
export async function readAppFeed(store: EventStore, principal: Principal, appId: string, query: PullQuery): Promise<{ events: CloudEvent[]; last: number }> {
  let subject = query.subject;
  if (principal.kind === 'org') {
    const allowed = principal.scopes.includes(Scopes.eventsSubscribe) || principal.scopes.includes(Scopes.serviceOwnerRead);
    if (!allowed) throw new DomainError('forbidden', 'MISSING_SCOPE', `Reading events needs the scope ${Scopes.eventsSubscribe}.`);
    if (appId.split('/')[0] !== principal.org || (principal.app !== undefined && principal.app !== appId)) {
      throw new DomainError('forbidden', 'NOT_YOUR_APP', `The events of ${appId} are not ${principal.org}'s.`);
    }
  } else {
    const own = `/party/${principal.partyId}`;
    if (subject !== undefined && subject !== own) throw new DomainError('forbidden', 'NOT_YOUR_SUBJECT', `A party reads its own events only (subject ${own}).`);
    subject = own;
  }
  const stored = await store.events.list({
    after: query.after,
    appId,
    limit: query.size,
    ...(query.type !== undefined && { type: query.type }),
    ...(subject !== undefined && { subject }),
  });
  return { events: stored.map((s) => s.event), last: stored[stored.length - 1]?.sequence ?? query.after };
}
