import type { CloudEvent } from '../cloud-event';
import type { Subscription } from '../subscription';

/**
 * Persistence of the events service. Two adapters implement it: SQLite (the embedded default) and MongoDB;
 * both pass test/contract/event-store.contract.ts. Races between instances are settled by version numbers on
 * single documents and by ids, never by transactions across documents or unique secondary indexes.
 */
export interface EventStore {
  readonly events: EventLog;
  readonly subscriptions: SubscriptionRepository;
  readonly deadLetters: DeadLetterRepository;
  init(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One relayed event: the CloudEvent and the fields it is found by. `sequence` is storage's, unique. */
export interface StoredEvent {
  sequence: number;
  appId: string;
  type: string;
  subject: string;
  source: string;
  event: CloudEvent;
}

export interface EventQuery {
  /** Strictly after this sequence. */
  after: number;
  appId?: string;
  /** Exact `type`. */
  type?: string;
  /** Exact `subject`. */
  subject?: string;
  limit: number;
}

export interface EventLog {
  /**
   * Stores the events (an event whose sequence is already stored is left as it is) and then moves the relay
   * position to `position` unless it is already further: a crash in between re-relays, never loses.
   */
  append(events: StoredEvent[], position: number): Promise<void>;
  /** The relay position: every event of storage at or below it is stored. Readers never go past it. */
  position(): Promise<number>;
  /** Stored events matching the query, sequence ascending, at most up to the relay position. */
  list(query: EventQuery): Promise<StoredEvent[]>;
}

export interface SubscriptionRepository {
  insert(subscription: Subscription): Promise<void>;
  get(id: string): Promise<Subscription | null>;
  /** Subscriptions of one owner (`org:nav`, `party:50001`), oldest first. */
  listByOwner(owner: string): Promise<Subscription[]>;
  /** Subscriptions that may be worked on at `now`: not leased by another (or the lease expired), due. */
  listDue(now: number, limit: number): Promise<Subscription[]>;
  /** Replaces the stored subscription if its version is still `expectedVersion`; false otherwise. */
  replace(subscription: Subscription, expectedVersion: number): Promise<boolean>;
  /** Removes the subscription and its dead letters. Returns false when there was none. */
  remove(id: string): Promise<boolean>;
}

/** An event that was not accepted within the attempts allowed; kept until replayed or the subscription is removed. */
export interface DeadLetter {
  subscriptionId: string;
  sequence: number;
  event: CloudEvent;
  attempts: number;
  lastError: string;
  failedAt: string;
  /** Set by a replay: the delivery worker tries it again (before new events) until it is accepted. */
  replayRequested: boolean;
}

export interface DeadLetterRepository {
  /** Idempotent by (subscriptionId, sequence). */
  put(letter: DeadLetter): Promise<void>;
  list(subscriptionId: string, limit: number): Promise<DeadLetter[]>;
  /** Those marked for replay, sequence ascending. */
  listReplayRequested(subscriptionId: string, limit: number): Promise<DeadLetter[]>;
  remove(subscriptionId: string, sequence: number): Promise<boolean>;
}
