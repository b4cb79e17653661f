import { listenWithGracefulShutdown } from '@forms/service-kit';
import { DatabaseCorruptError, DatabaseLockedError } from '@forms/sqlite-support';
import { createBlobStore, createMetadataStore } from './adapters';
import { buildStorageApp } from './app';
import { API_PREFIX, loadStorageConfig } from './config';

async function main(): Promise<void> {
  const config = loadStorageConfig();
  const app = await buildStorageApp({ config, store: createMetadataStore(config), blobs: createBlobStore(config) });
  const address = await listenWithGracefulShutdown(app, {
    host: config.HOST,
    port: config.PORT,
    shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000,
  });
  app.log.info(`storage API at ${address}${API_PREFIX}, docs at ${address}/storage/swagger`);
}

main().catch((error: unknown) => {
  // A refusal that names its cause in one stable line (the data directory is in use, the database is
  // damaged) is printed as that line; anything else with its stack.
  if (error instanceof DatabaseLockedError || error instanceof DatabaseCorruptError) console.error(`storage: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
