import { DomainError, type Principal } from '@forms/contracts';
import type { AppBaseUrl } from './cloud-event';
import type { EndpointClient } from './ports/endpoint';
import type { DeadLetter, EventStore } from './ports/event-store';
import { authorizeFilters, newSubscription, ownerOf, type Subscription, type SubscriptionRequest } from './subscription';

/** Subscriptions one org or party may have: each costs a lease and a query per delivery round. */
export const MAX_SUBSCRIPTIONS_PER_OWNER = 100;

const notFound = (id: string) => new DomainError('not_found', 'SUBSCRIPTION_NOT_FOUND', `No subscription ${id} of yours.`);

/** Subscriptions of one caller: create (validated by the delivery worker), read, list, delete; dead letters. */
export class SubscriptionService {
  constructor(
    private readonly store: EventStore,
    private readonly endpoints: EndpointClient,
    private readonly apps: AppBaseUrl,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(principal: Principal, request: SubscriptionRequest): Promise<Subscription> {
    const filters = authorizeFilters(principal, request, this.apps);
    await this.endpoints.check(request.endPoint);
    if ((await this.store.subscriptions.listByOwner(ownerOf(principal))).length >= MAX_SUBSCRIPTIONS_PER_OWNER) {
      throw new DomainError('conflict', 'TOO_MANY_SUBSCRIPTIONS', `At most ${MAX_SUBSCRIPTIONS_PER_OWNER} subscriptions each: delete one first.`);
    }
    // Delivery starts with what is relayed after this moment.
    const subscription = newSubscription(principal, request, filters, this.now(), await this.store.events.position());
    await this.store.subscriptions.insert(subscription);
    return subscription;
  }

  /** The caller's own subscription; another's is not found (never "forbidden", which would confirm it exists). */
  async get(principal: Principal, id: string): Promise<Subscription> {
    const subscription = await this.store.subscriptions.get(id);
    if (!subscription || subscription.owner !== ownerOf(principal)) throw notFound(id);
    return subscription;
  }

  list(principal: Principal): Promise<Subscription[]> {
    return this.store.subscriptions.listByOwner(ownerOf(principal));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    await this.store.subscriptions.remove(id);
  }

  async deadLetters(principal: Principal, id: string, limit: number): Promise<DeadLetter[]> {
    await this.get(principal, id);
    return this.store.deadLetters.list(id, limit);
  }

  /** Marks the subscription's dead letters (or the one of `sequence`) for delivery again; returns how many. */
  async replay(principal: Principal, id: string, sequence?: number): Promise<number> {
    await this.get(principal, id);
    const letters = (await this.store.deadLetters.list(id, 10_000)).filter((l) => sequence === undefined || l.sequence === sequence);
    if (sequence !== undefined && letters.length === 0) throw new DomainError('not_found', 'DEAD_LETTER_NOT_FOUND', `No dead letter ${sequence} in subscription ${id}.`);
    for (const letter of letters) await this.store.deadLetters.put({ ...letter, replayRequested: true });
    return letters.length;
  }
}
