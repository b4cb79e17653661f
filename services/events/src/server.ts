import { listenWithGracefulShutdown } from '@forms/service-kit';
import { DatabaseCorruptError, DatabaseLockedError } from '@forms/sqlite-support';
import { appBaseUrlsOf, createEndpointClient, createEventStore, createStorageFeed } from './adapters';
import { buildEventsApp } from './app';
import { API_PREFIX, loadEventsConfig } from './config';

async function main(): Promise<void> {
  const config = loadEventsConfig();
  const app = await buildEventsApp({
    config,
    store: createEventStore(config),
    feed: createStorageFeed(config),
    endpoints: createEndpointClient(config),
    apps: appBaseUrlsOf(config),
  });
  const address = await listenWithGracefulShutdown(app, { host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000 });
  app.log.info(`events API at ${address}${API_PREFIX}, docs at ${address}/events/swagger`);
}

main().catch((error: unknown) => {
  if (error instanceof DatabaseLockedError || error instanceof DatabaseCorruptError) console.error(`events: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
