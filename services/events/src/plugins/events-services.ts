import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { BackgroundLoop } from '../domain/background-loop';
import type { AppBaseUrl } from '../domain/cloud-event';
import { DeliveryWorker } from '../domain/delivery';
import type { EndpointClient } from '../domain/ports/endpoint';
import type { EventStore } from '../domain/ports/event-store';
import type { StorageFeed } from '../domain/ports/storage-feed';
import { Relay } from '../domain/relay';
import type { RetryPolicy } from '../domain/retry-policy';
import { SubscriptionService } from '../domain/subscription-service';

export interface EventsServices {
  store: EventStore;
  subscriptions: SubscriptionService;
  apiBaseUrl: string;
  subscriptionUrl: (id: string) => string;
  maxPageSize: number;
  /** Delivery looks for work at once (after a replay, or new events). */
  wake(): void;
  /** What this instance's background loops did since it started (events delivered, ...), for metrics and tests. */
  figures(): EventsFigures;
  /** Throws why the last relay step failed (storage down, the feed refused), if it did: for /ready. */
  relayHealth(): Promise<void>;
}

export interface EventsFigures {
  /** Events this instance delivered (accepted by their endpoints). */
  delivered: number;
  failedSends: number;
  givenUp: number;
  /** When (ms since the epoch) a relay step last found nothing more in storage's feed; null before the first. */
  relayCaughtUpAt: number | null;
  relayFailing: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    events: EventsServices;
  }
}

export interface EventsServicesOptions {
  store: EventStore;
  feed: StorageFeed;
  endpoints: EndpointClient & { close?(): Promise<void> };
  apps: AppBaseUrl;
  apiBaseUrl: string;
  maxPageSize: number;
  relay: { intervalMs: number; pageSize: number };
  delivery: { intervalMs: number; leaseMs: number; concurrency: number; retry: RetryPolicy };
  /** false: neither relay nor deliver (an instance that only serves the API). */
  background: boolean;
}

/**
 * The domain services on the store, and the two background loops of every instance: the relay (storage's feed
 * into the store) and delivery (the store to subscribers). Both stop, finishing their step, when the app closes.
 */
export const eventsServices = fp(
  async (app: FastifyInstance, options: EventsServicesOptions) => {
    const { store } = options;
    await store.init();
    const subscriptionUrl = (id: string) => `${options.apiBaseUrl}/subscriptions/${id}`;
    const worker = new DeliveryWorker(store, options.endpoints, {
      instanceId: randomUUID(),
      leaseMs: options.delivery.leaseMs,
      concurrency: options.delivery.concurrency,
      batch: 100,
      retry: options.delivery.retry,
      subscriptionUrl,
    });
    const delivery = new BackgroundLoop(async () => (await worker.deliverOnce()) > 0, options.delivery.intervalMs, (error) =>
      app.log.error({ err: error }, 'delivery round failed'),
    );
    const relay = new Relay(options.feed, store, options.apps, options.relay.pageSize);
    let relayFailing = false;
    let relayError = '';
    let relayCaughtUpAt: number | null = null;
    const relayLoop = new BackgroundLoop(
      async () => {
        const { read, stored } = await relay.relayOnce();
        if (relayFailing) app.log.info('relaying storage events again');
        relayFailing = false;
        if (stored > 0) delivery.wake();
        const more = read >= options.relay.pageSize;
        if (!more) relayCaughtUpAt = Date.now();
        return more;
      },
      options.relay.intervalMs,
      (error) => {
        // Storage down or restarting: said once, not at every interval.
        relayError = error instanceof Error ? error.message : String(error);
        if (!relayFailing) app.log.warn({ reason: relayError }, 'relaying storage events failed; retrying');
        relayFailing = true;
      },
    );
    app.decorate('events', {
      store,
      subscriptions: new SubscriptionService(store, options.endpoints, options.apps),
      apiBaseUrl: options.apiBaseUrl,
      subscriptionUrl,
      maxPageSize: options.maxPageSize,
      wake: () => delivery.wake(),
      figures: () => ({ delivered: worker.delivered, failedSends: worker.failedSends, givenUp: worker.givenUp, relayCaughtUpAt, relayFailing }),
      relayHealth: async () => {
        if (relayFailing) throw new Error(relayError);
      },
    } satisfies EventsServices);
    if (options.background) {
      app.addHook('onReady', async () => {
        relayLoop.start();
        delivery.start();
      });
    }
    app.addHook('onClose', async () => {
      worker.stop();
      // Requests in flight are cut off rather than waited for (up to DELIVERY_TIMEOUT_MS): their events are sent
      // again by whoever holds the subscription next, as after a crash.
      await options.endpoints.close?.();
      await Promise.all([relayLoop.stop(), delivery.stop()]);
      await store.close();
    });
  },
  { name: 'events-services' },
);
