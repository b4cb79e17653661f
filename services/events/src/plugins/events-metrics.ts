import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * The events service's own figures beside the request metrics (ADR 0023), read at each scrape: how far the relay
 * has copied storage's feed and when it last caught up (a relay stuck behind shows as a timestamp that stops
 * moving), and what delivery did: events accepted, sends refused, events given up on.
 */
export const eventsMetrics = fp(
  async (app: FastifyInstance) => {
    const { events } = app;
    app.addScrapedMetrics([
      { kind: 'gauge', name: 'events_relay_position', help: "The last sequence of storage's feed copied into the event store", read: () => events.store.events.position() },
      {
        kind: 'gauge',
        name: 'events_relay_caught_up_timestamp_seconds',
        help: "When this instance's relay last found nothing more to copy from storage's feed (0: not yet)",
        read: () => (events.figures().relayCaughtUpAt ?? 0) / 1000,
      },
      { kind: 'gauge', name: 'events_relay_failing', help: "1 while this instance's relay cannot read storage's feed or write the store", read: () => (events.figures().relayFailing ? 1 : 0) },
      { kind: 'counter', name: 'events_delivered_total', help: 'Events this instance delivered and saw accepted by their endpoints', read: () => events.figures().delivered },
      { kind: 'counter', name: 'events_delivery_failures_total', help: 'Sends of an event its endpoint refused or did not answer (each retry counts)', read: () => events.figures().failedSends },
      { kind: 'counter', name: 'events_dead_lettered_total', help: 'Events given up on after their last retry (kept as dead letters for replay)', read: () => events.figures().givenUp },
    ]);
  },
  { name: 'events-metrics', dependencies: ['events-services'] },
);
