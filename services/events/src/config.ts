import { Type, type Static } from '@sinclair/typebox';
import { TokenVerificationConfig } from '@forms/auth-plugin';
import { loadConfig, ServerConfig } from '@forms/service-kit';

/**
 * Everything the events service reads from its environment, validated once at start-up. With nothing set it
 * runs embedded (SQLite in DATA_DIR) next to the local storage and token service; MONGODB_URL switches to MongoDB.
 */
export const EventsConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 5102, minimum: 0, maximum: 65535 }),
  PUBLIC_URL: Type.Optional(Type.String({ description: 'Public base URL, e.g. https://events.example.no' })),
  DATA_DIR: Type.String({ default: '.data/events' }),
  MONGODB_URL: Type.Optional(Type.String()),
  MONGODB_DATABASE: Type.String({ default: 'events' }),
  ...TokenVerificationConfig,
  /** Storage's API, whose change feed this service relays. */
  STORAGE_URL: Type.String({ default: 'http://127.0.0.1:5101/storage/api/v1' }),
  /** The events service's own client at the token service (scope altinn:storage/events.feed), or a fixed token. */
  FEED_CLIENT_ID: Type.Optional(Type.String()),
  FEED_CLIENT_SECRET: Type.Optional(Type.String()),
  FEED_CLIENT_FILE: Type.Optional(
    Type.String({ description: 'instead of FEED_CLIENT_ID/SECRET: a JSON file with them, as the token service CLI `clients add` prints' }),
  ),
  AUTH_URL: Type.String({ default: 'http://127.0.0.1:5100', description: 'the token service, for FEED_CLIENT_ID' }),
  FEED_TOKEN: Type.Optional(Type.String({ description: 'a fixed token instead of client credentials (tests, short runs)' })),
  /** Where an app's instances live: `{org}` and `{app}` are filled in; APP_BASE_URLS overrides per app. */
  APP_BASE_URL_TEMPLATE: Type.String({ default: 'https://{org}.apps.forms.example' }),
  APP_BASE_URLS: Type.String({ default: '', description: 'org/app=url pairs, comma separated' }),
  RELAY_INTERVAL_MS: Type.Integer({ default: 200, minimum: 10, description: 'how often storage is asked for new changes when idle' }),
  RELAY_PAGE_SIZE: Type.Integer({ default: 500, minimum: 1, maximum: 1000 }),
  DELIVERY_INTERVAL_MS: Type.Integer({ default: 200, minimum: 10, description: 'how often due subscriptions are looked for when idle' }),
  DELIVERY_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  DELIVERY_LEASE_MS: Type.Integer({ default: 30_000, minimum: 200, description: 'how long an instance holds a subscription it delivers to' }),
  DELIVERY_CONCURRENCY: Type.Integer({ default: 8, minimum: 1, maximum: 256 }),
  DELIVERY_RETRY_INITIAL_MS: Type.Integer({ default: 10_000, minimum: 1 }),
  DELIVERY_RETRY_MAX_MS: Type.Integer({ default: 3_600_000, minimum: 1 }),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ default: 12, minimum: 1, description: 'then the event goes to the dead-letter list' }),
  /** Subscriber endpoints on private, loopback or link-local addresses; on only in local development. */
  ALLOW_PRIVATE_ENDPOINTS: Type.Boolean({ default: false }),
  FEED_MAX_PAGE_SIZE: Type.Integer({ default: 1000, minimum: 1, maximum: 10_000 }),
  ...ServerConfig,
});
export type EventsConfig = Static<typeof EventsConfigSchema>;

export const loadEventsConfig = (env?: Record<string, string | undefined>): EventsConfig => loadConfig(EventsConfigSchema, env);

export const API_PREFIX = '/events/api/v1';

/** `org/app=url,...` into a map; a malformed pair is a start-up error. */
export function parseAppBaseUrls(value: string): Map<string, string> {
  const urls = new Map<string, string>();
  for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z0-9-]+\/[a-z0-9-]+)=(https?:\/\/\S+)$/i.exec(pair);
    if (!match) throw new Error(`APP_BASE_URLS: "${pair}" is not <org>/<app>=<url>`);
    urls.set(match[1] as string, (match[2] as string).replace(/\/$/, ''));
  }
  return urls;
}
