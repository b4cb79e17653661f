/** One audit event of storage as its change feed serves it: with the write's sequence and the instance's app. */
export interface FeedEvent {
  sequence: number;
  appId: string;
  id: string;
  instanceId: string;
  eventType: string;
  created: string;
  instanceOwnerPartyId: string;
  dataId?: string;
  processInfo?: { currentTask?: { elementId?: string } | null; ended?: string | null } & Record<string, unknown>;
  user?: Record<string, unknown>;
}

export interface FeedPage {
  events: FeedEvent[];
  /** Where the next request continues: past every write this page holds in full (and writes without events). */
  position: number;
}

/** Storage's change feed (routes/feed.ts of storage), as the relay reads it. */
export interface StorageFeed {
  /** Changes of whole writes with sequence > after, in order; never part of a write. */
  read(after: number, limit: number): Promise<FeedPage>;
}
