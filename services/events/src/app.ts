import { authOptionsFromConfig, authPlugin } from '@forms/auth-plugin';
import { createServer, healthRoutes, serverOptionsFrom, openApi, type LoggerOptions, type TypedFastify } from '@forms/service-kit';
import type { AppBaseUrl } from './domain/cloud-event';
import type { EndpointClient } from './domain/ports/endpoint';
import type { EventStore } from './domain/ports/event-store';
import type { StorageFeed } from './domain/ports/storage-feed';
import { API_PREFIX, type EventsConfig } from './config';
import { eventsMetrics } from './plugins/events-metrics';
import { eventsServices } from './plugins/events-services';
import appFeedRoutes from './routes/app-feed';
import subscriptionRoutes from './routes/subscriptions';

export interface EventsAppOptions {
  config: EventsConfig;
  store: EventStore;
  feed: StorageFeed;
  endpoints: EndpointClient & { close?(): Promise<void> };
  apps: AppBaseUrl;
  logger?: LoggerOptions | false;
  /** Default true: this instance relays and delivers as well as serving the API. */
  background?: boolean;
}

export function publicBaseUrl(config: EventsConfig): string {
  return (config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`).replace(/\/$/, '');
}

/** The events service: storage's changes as CloudEvents, subscriptions with signed delivery, and the pull feed. */
export async function buildEventsApp(options: EventsAppOptions): Promise<TypedFastify> {
  const { config, store } = options;
  const app = createServer({
    name: 'events',
    bodyLimit: 64 * 1024,
    ...serverOptionsFrom(config, options.logger),
  });
  await app.register(openApi, {
    title: 'Events API',
    description: 'CloudEvents of instances: subscriptions with signed push delivery, and a pull feed per app.',
    version: '1.0.0',
    routePrefix: '/events/swagger',
  });
  await app.register(authPlugin, authOptionsFromConfig(config));
  await app.register(eventsServices, {
    store,
    feed: options.feed,
    endpoints: options.endpoints,
    apps: options.apps,
    apiBaseUrl: `${publicBaseUrl(config)}${API_PREFIX}`,
    maxPageSize: config.FEED_MAX_PAGE_SIZE,
    relay: { intervalMs: config.RELAY_INTERVAL_MS, pageSize: config.RELAY_PAGE_SIZE },
    delivery: {
      intervalMs: config.DELIVERY_INTERVAL_MS,
      leaseMs: config.DELIVERY_LEASE_MS,
      concurrency: config.DELIVERY_CONCURRENCY,
      retry: { initialMs: config.DELIVERY_RETRY_INITIAL_MS, maxMs: config.DELIVERY_RETRY_MAX_MS, maxAttempts: config.DELIVERY_MAX_ATTEMPTS },
    },
    background: options.background ?? true,
  });
  await app.register(eventsMetrics);
  await app.register(healthRoutes, {
    checks: [
      { name: 'store', check: () => store.ping() },
      // Without storage's feed no new events arrive, but subscriptions, the pull feed and deliveries go on.
      { name: 'storage-feed', check: () => app.events.relayHealth(), degradedOnly: true },
    ],
  });
  await app.register(
    async (api) => {
      await api.register(subscriptionRoutes);
      await api.register(appFeedRoutes);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
