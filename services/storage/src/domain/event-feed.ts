import { Scopes, type Principal } from '@forms/contracts';
import type { InstanceEventRepository, SequencedInstanceEvent } from './ports/metadata-store';
import { StorageErrors } from './errors';

/**
 * Storage's change feed for the events service (ADR 0014): the audit events of committed writes in commit
 * order. Only the events service's own client reads it: an org token (not an app's) with the scope
 * altinn:storage/events.feed, which the token service grants to org clients only and an operator registers
 * for that one client; the feed holds every app's events.
 */
export function requireFeedReader(principal: Principal): void {
  if (principal.kind !== 'org' || principal.app !== undefined || !principal.scopes.includes(Scopes.storageEventsFeed)) {
    throw StorageErrors.missingScope(Scopes.storageEventsFeed);
  }
}

export interface FeedPage {
  events: SequencedInstanceEvent[];
  /** Where the next read continues: every write up to it is in this page in full. */
  position: number;
}

/** A page of the feed; the store never splits a write, so the next read continues after the last event's sequence. */
export async function readFeed(events: Pick<InstanceEventRepository, 'feed'>, after: number, size: number): Promise<FeedPage> {
  const page = await events.feed({ after, limit: size });
  return { events: page, position: page[page.length - 1]?.sequence ?? after };
}
