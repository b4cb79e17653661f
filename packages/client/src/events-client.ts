import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudEvent, CreatedEventSubscription, EventDeadLetter, EventSubscription, SubscriptionRequest } from '@forms/contracts';
import { HttpClient } from './http';
import { segments, toSearchParams } from './http-values';

/**
 * Typed client of the events service (`<baseUrl>/events/api/v1`): subscriptions and the pull feed. Errors are
 * `DomainError`s as with the other clients (the service's problem+json `code` kept; EVENTS_UNAVAILABLE and
 * EVENTS_TIMEOUT for outages). A receiver checks deliveries with `verifyEventSignature`.
 */
export interface EventsClientOptions {
  /** The events API, e.g. `http://127.0.0.1:5102/events/api/v1`. */
  baseUrl: string;
  /** A bearer token, or a function giving one for each call (e.g. `TokenClient.tokenProvider()`). */
  token: string | (() => string | Promise<string>);
  timeoutMs?: number;
}

/** The events service's answers, typed by the schemas it validates with (`@forms/contracts`). */
export type { SubscriptionRequest, EventSubscription };
/** A CloudEvents 1.0 event as the events service sends and serves it. */
export type PlatformEvent = CloudEvent;
export type DeadLetter = EventDeadLetter;

export interface FeedQuery {
  /** The sequence of the last event you have (0: from the beginning). */
  after?: number;
  type?: string;
  subject?: string;
  size?: number;
}

export interface FollowOptions extends FeedQuery {
  /** How long to wait before asking again when the feed has nothing new. Default 1000 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

export class EventsClient {
  private readonly http: HttpClient;
  private readonly token: () => Promise<string>;

  constructor(options: EventsClientOptions) {
    this.http = new HttpClient({ baseUrl: options.baseUrl, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) }, { name: 'The events service', codePrefix: 'EVENTS' });
    const token = options.token;
    this.token = async () => (typeof token === 'string' ? token : token());
  }

  /** Creates a subscription; the answer holds the signing secret, which is never shown again. */
  async subscribe(request: SubscriptionRequest): Promise<CreatedEventSubscription> {
    return this.http.json(`/subscriptions`, { method: 'POST', token: await this.token(), json: request });
  }

  async getSubscription(id: string): Promise<EventSubscription> {
    return this.http.json(`/subscriptions/${encodeURIComponent(id)}`, { token: await this.token() });
  }

  async listSubscriptions(): Promise<EventSubscription[]> {
    return (await this.http.json<{ subscriptions: EventSubscription[] }>(`/subscriptions`, { token: await this.token() })).subscriptions;
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.http.empty(`/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE', token: await this.token() });
  }

  async deadLetters(id: string): Promise<DeadLetter[]> {
    return (await this.http.json<{ deadLetters: DeadLetter[] }>(`/subscriptions/${encodeURIComponent(id)}/deadletters`, { token: await this.token() })).deadLetters;
  }

  /** Sends the subscription's dead letters (or the one of `sequence`) again; returns how many. */
  async replayDeadLetters(id: string, sequence?: number): Promise<number> {
    const query = toSearchParams({ sequence });
    return (await this.http.json<{ replaying: number }>(`/subscriptions/${encodeURIComponent(id)}/deadletters/replay${query}`, { method: 'POST', token: await this.token() })).replaying;
  }

  /** One page of an app's pull feed, in sequence order. */
  async feed(appId: string, query: FeedQuery = {}): Promise<PlatformEvent[]> {
    return this.http.json(`/app/${segments(appId)}${toSearchParams({ ...query })}`, { token: await this.token() });
  }

  /**
   * Follows an app's feed from `after` on, for as long as the caller iterates (or until `signal` aborts): each
   * event once, in order. Keep the last event's `sequence` to resume after a restart.
   */
  async *follow(appId: string, options: FollowOptions = {}): AsyncIterable<PlatformEvent> {
    let after = options.after ?? 0;
    const { pollMs = 1000, signal, after: _after, ...filters } = options;
    while (!signal?.aborted) {
      const page = await this.feed(appId, { ...filters, after });
      for (const event of page) {
        yield event;
        after = Math.max(after, Number(event.sequence ?? after));
      }
      if (page.length === 0) {
        try {
          await sleep(pollMs, undefined, signal ? { signal } : undefined);
        } catch {
          return;
        }
      }
    }
  }
}
