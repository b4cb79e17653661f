import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scopes } from '@forms/contracts';
import type { TypedFastify } from '@forms/service-kit';
import type { TestIssuer } from '@forms/test-support';
import { appBaseUrlsOf, createEndpointClient, createEventStore, HttpStorageFeed } from '../../src/adapters';
import { buildEventsApp } from '../../src/app';
import { loadEventsConfig, type EventsConfig } from '../../src/config';
import type { EventStore } from '../../src/domain/ports/event-store';

export const EVENTS_API = '/events/api/v1';
/** Where the tests' apps live (the apps themselves are reached over storage; events only name them). */
export const APP_BASE = 'https://nav.apps.test';
export const appUrl = (appId: string) => `${APP_BASE.replace('nav', appId.split('/')[0] as string)}/${appId}`;

export interface EventsHarness {
  app: TypedFastify;
  store: EventStore;
  config: EventsConfig;
  /** http://127.0.0.1:<port> once listening. */
  baseUrl: string;
  close(): Promise<void>;
}

export interface EventsHarnessOptions {
  issuer: TestIssuer;
  /** Storage's API URL (its feed route is read with the events service's own token). */
  storageUrl: string;
  adapters?: 'embedded' | 'mongo';
  /** An existing data dir or database to share (a second instance on the same store). */
  dataDir?: string;
  database?: string;
  env?: Record<string, string>;
}

/** The feed reader's token: the events service's own client, an org token with the feed scope and no app. */
export const feedToken = (issuer: TestIssuer) => issuer.orgToken({ org: 'platform', scopes: [Scopes.storageEventsFeed] });

/** The events service over real adapters (SQLite in a temp folder, or MongoDB from jest's global setup), listening on 127.0.0.1. */
export async function startEvents(options: EventsHarnessOptions): Promise<EventsHarness & { dataDir: string; database: string }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'events-test-'));
  const database = options.database ?? `events_${randomUUID().slice(0, 8)}`;
  const config = loadEventsConfig({
    DATA_DIR: dataDir,
    JWKS_URL: options.issuer.jwksUrl,
    TOKEN_ISSUER: options.issuer.issuer,
    STORAGE_URL: options.storageUrl,
    FEED_TOKEN: feedToken(options.issuer),
    APP_BASE_URL_TEMPLATE: 'https://{org}.apps.test',
    ALLOW_PRIVATE_ENDPOINTS: 'true',
    RELAY_INTERVAL_MS: '50',
    DELIVERY_INTERVAL_MS: '50',
    DELIVERY_RETRY_INITIAL_MS: '100',
    DELIVERY_RETRY_MAX_MS: '400',
    DELIVERY_MAX_ATTEMPTS: '3',
    DELIVERY_TIMEOUT_MS: '2000',
    DELIVERY_LEASE_MS: '3000',
    ...(options.adapters === 'mongo' && { MONGODB_URL: requiredEnv('TEST_MONGODB_URL'), MONGODB_DATABASE: database }),
    ...options.env,
  });
  const store = createEventStore(config);
  const app = await buildEventsApp({
    config,
    store,
    feed: new HttpStorageFeed(config.STORAGE_URL, async () => config.FEED_TOKEN as string),
    endpoints: createEndpointClient(config),
    apps: appBaseUrlsOf(config),
    logger: false,
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    store,
    config,
    baseUrl,
    dataDir,
    database,
    async close() {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest's global setup`);
  return value;
}
