import { listenWithGracefulShutdown } from '@forms/service-kit';
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
  console.error(error);
  process.exit(1);
});
