import { randomUUID } from 'node:crypto';
import { EventTypes, type CloudEvent } from './cloud-event';
import type { EndpointClient, DeliveryOutcome } from './ports/endpoint';
import type { EventStore, StoredEvent } from './ports/event-store';
import { backoffMs, type RetryPolicy } from './retry-policy';
import { signedEventHeaders } from '@forms/client';
import { eventQueryOf, matchesRest, type Subscription } from './subscription';

export interface DeliveryOptions {
  /** This instance, as it appears in leases. */
  instanceId: string;
  leaseMs: number;
  concurrency: number;
  /** Events sent to one subscription per lease before others get their turn. */
  batch: number;
  retry: RetryPolicy;
  /** The events service's own subscription URLs (the source of validation events). */
  subscriptionUrl: (id: string) => string;
  now?: () => Date;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const describe = (outcome: Extract<DeliveryOutcome, { ok: false }>) => (outcome.status !== undefined ? `HTTP ${outcome.status}` : outcome.reason);

/**
 * Delivers events to subscribers: at least once, in sequence order per subscription, one event at a time.
 * An instance first takes a lease on a subscription (a versioned write, so two instances never both hold it),
 * sends, and moves the subscription's position past an event only once the endpoint answered 2xx. A crash
 * leaves the lease to expire and the position where it was: the next holder sends the in-flight event again.
 */
export class DeliveryWorker {
  private readonly now: () => Date;
  private readonly busy = new Set<string>();
  /** Events (not validations or replays) this instance delivered and saw accepted, since it started. */
  delivered = 0;
  /** Sends of an event its endpoint refused or did not answer (each retry counts), since it started. */
  failedSends = 0;
  /** Events given up on after their last retry (dead letters written), since it started. */
  givenUp = 0;
  /** Set on shutdown: the event in hand is finished, no further one is started. */
  private stopping = false;

  constructor(
    private readonly store: EventStore,
    private readonly endpoint: EndpointClient,
    private readonly options: DeliveryOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Finish what is in hand and start nothing more; the leases are released (or expire) for other instances. */
  stop(): void {
    this.stopping = true;
  }

  /** One round: every due subscription with work gets one lease's worth of delivery. Returns how many were worked on. */
  async deliverOnce(): Promise<number> {
    const due = await this.store.subscriptions.listDue(this.now().getTime(), this.options.concurrency * 4);
    // In random order, and only as many as this instance serves at once: other instances, polling the same list,
    // mostly take different subscriptions instead of racing for the same leases.
    const queue = shuffle(due.filter((subscription) => !this.busy.has(subscription.id))).slice(0, this.options.concurrency);
    let worked = 0;
    const runners = Array.from({ length: Math.min(this.options.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next && !this.stopping; next = queue.shift()) {
        this.busy.add(next.id);
        try {
          if (await this.work(next)) worked += 1;
        } finally {
          this.busy.delete(next.id);
        }
      }
    });
    await Promise.all(runners);
    return worked;
  }

  private async work(candidate: Subscription): Promise<boolean> {
    const pending = candidate.validated ? await this.pendingEvents(candidate) : [];
    const replays = candidate.validated ? await this.store.deadLetters.listReplayRequested(candidate.id, this.options.batch) : [];
    if (candidate.validated && pending.length === 0 && replays.length === 0) return false;
    let subscription = await this.lease(candidate);
    if (!subscription) return false;
    try {
      if (!subscription.validated) {
        subscription = await this.validate(subscription);
        return true;
      }
      for (const letter of replays) {
        if (this.stopping) return true;
        const outcome = await this.send(subscription, letter.event);
        if (outcome.ok) await this.store.deadLetters.remove(letter.subscriptionId, letter.sequence);
        else await this.store.deadLetters.put({ ...letter, attempts: letter.attempts + 1, lastError: describe(outcome), failedAt: this.now().toISOString(), replayRequested: false });
      }
      for (const stored of pending) {
        if (this.stopping) return true;
        if (!matchesRest(subscription, stored)) {
          subscription = await this.save(subscription, { position: stored.sequence });
          if (!subscription) return true;
          continue;
        }
        const outcome = await this.send(subscription, stored.event);
        subscription = await (outcome.ok ? this.accepted(subscription, stored) : this.failed(subscription, stored, outcome));
        if (!subscription || !outcome.ok) return true;
      }
      return true;
    } finally {
      if (subscription) await this.release(subscription);
    }
  }

  private async pendingEvents(subscription: Subscription): Promise<StoredEvent[]> {
    return this.store.events.list(eventQueryOf(subscription, this.options.batch));
  }

  private async validate(subscription: Subscription): Promise<Subscription | null> {
    const event: CloudEvent = {
      specversion: '1.0',
      id: randomUUID(),
      type: EventTypes.validateSubscription,
      source: this.options.subscriptionUrl(subscription.id),
      subject: subscription.subjectFilter ?? '/subscription',
      time: this.now().toISOString(),
      resource: 'urn:altinn:resource:events',
    };
    const outcome = await this.send(subscription, event);
    if (outcome.ok) return this.save(subscription, { attempts: 0, nextAttemptAt: 0, lastError: undefined }, { validated: true });
    return this.retryLater(subscription, describe(outcome));
  }

  private send(subscription: Subscription, event: CloudEvent): Promise<DeliveryOutcome> {
    const body = JSON.stringify(event);
    return this.endpoint.post(subscription.endPoint, body, {
      'content-type': 'application/cloudevents+json',
      ...signedEventHeaders(subscription.secret, event.id, body, this.now()),
    });
  }

  private accepted(subscription: Subscription, stored: StoredEvent): Promise<Subscription | null> {
    this.delivered += 1;
    return this.save(subscription, { position: stored.sequence, attempts: 0, nextAttemptAt: 0, lastError: undefined });
  }

  private async failed(subscription: Subscription, stored: StoredEvent, outcome: Extract<DeliveryOutcome, { ok: false }>): Promise<Subscription | null> {
    this.failedSends += 1;
    const attempts = subscription.delivery.attempts + 1;
    const lastError = describe(outcome);
    if (attempts < this.options.retry.maxAttempts) return this.retryLater(subscription, lastError);
    this.givenUp += 1;
    // Given up on: kept for the subscriber to read and replay, and the events after it flow again.
    await this.store.deadLetters.put({
      subscriptionId: subscription.id,
      sequence: stored.sequence,
      event: stored.event,
      attempts,
      lastError,
      failedAt: this.now().toISOString(),
      replayRequested: false,
    });
    return this.save(subscription, { position: stored.sequence, attempts: 0, nextAttemptAt: 0, lastError });
  }

  private retryLater(subscription: Subscription, lastError: string): Promise<Subscription | null> {
    const attempts = subscription.delivery.attempts + 1;
    const nextAttemptAt = this.now().getTime() + backoffMs(this.options.retry, attempts);
    return this.save(subscription, { attempts, nextAttemptAt, lastError });
  }

  /** Takes the subscription for this instance, unless another holds it; null when the race is lost. */
  private async lease(subscription: Subscription): Promise<Subscription | null> {
    const now = this.now().getTime();
    const { leaseOwner, leaseUntil } = subscription.delivery;
    if (leaseOwner !== undefined && leaseOwner !== this.options.instanceId && (leaseUntil ?? 0) > now) return null;
    return this.save(subscription, {});
  }

  private async release(subscription: Subscription): Promise<void> {
    await this.save(subscription, { leaseOwner: undefined, leaseUntil: undefined });
  }

  /**
   * Writes a change of the delivery state (renewing the lease) if nobody else wrote since; null when the
   * subscription changed or is gone: then this instance no longer holds it and stops.
   */
  private async save(subscription: Subscription, change: Partial<Subscription['delivery']>, top: Partial<Subscription> = {}): Promise<Subscription | null> {
    const lease = 'leaseOwner' in change ? {} : { leaseOwner: this.options.instanceId, leaseUntil: this.now().getTime() + this.options.leaseMs };
    const delivery = { ...subscription.delivery, ...lease, ...change };
    for (const key of Object.keys(delivery) as (keyof typeof delivery)[]) if (delivery[key] === undefined) delete delivery[key];
    const next: Subscription = { ...subscription, ...top, delivery, version: subscription.version + 1 };
    return (await this.store.subscriptions.replace(next, subscription.version)) ? next : null;
  }
}
