import { TokenClient } from '@forms/client';
import { appBaseUrlResolver, type AppBaseUrl } from '../domain/cloud-event';
import type { EventStore } from '../domain/ports/event-store';
import { parseAppBaseUrls, type EventsConfig } from '../config';
import { HttpEndpointClient } from './http-endpoint';
import { MongoEventStore } from './mongo-event-store';
import { SqliteEventStore } from './sqlite-event-store';
import { HttpStorageFeed } from './storage-feed-client';

export { HttpEndpointClient, HttpStorageFeed, MongoEventStore, SqliteEventStore };

/** MongoDB when MONGODB_URL is set, else SQLite in DATA_DIR. */
export const createEventStore = (config: EventsConfig): EventStore =>
  config.MONGODB_URL ? new MongoEventStore(config.MONGODB_URL, config.MONGODB_DATABASE) : new SqliteEventStore(config.DATA_DIR);

/** The token storage's feed is read with: FEED_TOKEN as given, or the service's own client (renewed before it expires). */
export function feedToken(config: EventsConfig): () => Promise<string> {
  if (config.FEED_TOKEN) {
    const token = config.FEED_TOKEN;
    return async () => token;
  }
  if (!config.FEED_CLIENT_ID || !config.FEED_CLIENT_SECRET) {
    throw new Error('the events service reads storage with its own client: set FEED_CLIENT_ID and FEED_CLIENT_SECRET (or FEED_TOKEN)');
  }
  return new TokenClient({ authUrl: config.AUTH_URL, clientId: config.FEED_CLIENT_ID, clientSecret: config.FEED_CLIENT_SECRET }).tokenProvider();
}

export const createStorageFeed = (config: EventsConfig) => new HttpStorageFeed(config.STORAGE_URL, feedToken(config));

export const createEndpointClient = (config: EventsConfig) =>
  new HttpEndpointClient({ timeoutMs: config.DELIVERY_TIMEOUT_MS, allowPrivate: config.ALLOW_PRIVATE_ENDPOINTS });

export const appBaseUrlsOf = (config: EventsConfig): AppBaseUrl => appBaseUrlResolver(config.APP_BASE_URL_TEMPLATE, parseAppBaseUrls(config.APP_BASE_URLS));
