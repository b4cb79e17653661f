import { readFileSync } from 'node:fs';
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
  const client = config.FEED_CLIENT_FILE ? readClientFile(config.FEED_CLIENT_FILE) : { clientId: config.FEED_CLIENT_ID, clientSecret: config.FEED_CLIENT_SECRET };
  if (!client.clientId || !client.clientSecret) {
    throw new Error('the events service reads storage with its own client: set FEED_CLIENT_ID and FEED_CLIENT_SECRET, or FEED_CLIENT_FILE (or FEED_TOKEN)');
  }
  return new TokenClient({ authUrl: config.AUTH_URL, clientId: client.clientId, clientSecret: client.clientSecret }).tokenProvider();
}

/** `{"client": {"clientId"}, "clientSecret"}` (the token service CLI's `clients add`) or `{"clientId", "clientSecret"}`. */
function readClientFile(path: string): { clientId?: string; clientSecret?: string } {
  let file: { client?: { clientId?: unknown }; clientId?: unknown; clientSecret?: unknown };
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
  } catch (error) {
    // Never the parser's message: it would quote the secret.
    throw new Error(`FEED_CLIENT_FILE ${path} cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  const clientId = file.client?.clientId ?? file.clientId;
  return {
    ...(typeof clientId === 'string' && { clientId }),
    ...(typeof file.clientSecret === 'string' && { clientSecret: file.clientSecret }),
  };
}

export const createStorageFeed = (config: EventsConfig) => new HttpStorageFeed(config.STORAGE_URL, feedToken(config));

export const createEndpointClient = (config: EventsConfig) =>
  new HttpEndpointClient({ timeoutMs: config.DELIVERY_TIMEOUT_MS, allowPrivate: config.ALLOW_PRIVATE_ENDPOINTS });

export const appBaseUrlsOf = (config: EventsConfig): AppBaseUrl => appBaseUrlResolver(config.APP_BASE_URL_TEMPLATE, parseAppBaseUrls(config.APP_BASE_URLS));
