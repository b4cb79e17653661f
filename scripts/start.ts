/**
 * Starts the whole platform in one process on its embedded default: no Docker, database or cloud account.
 * Each service reads its own configuration from the environment as it would in a container.
 */
import { listenWithGracefulShutdown } from '@forms/service-kit';
import { createBlobStore, createMetadataStore } from '../services/storage/src/adapters';
import { buildStorageApp, publicBaseUrl } from '../services/storage/src/app';
import { API_PREFIX, loadStorageConfig } from '../services/storage/src/config';

async function main(): Promise<void> {
  const storageConfig = loadStorageConfig();
  const storage = await buildStorageApp({
    config: storageConfig,
    store: createMetadataStore(storageConfig),
    blobs: createBlobStore(storageConfig),
    logger: { level: storageConfig.LOG_LEVEL === 'info' ? 'warn' : storageConfig.LOG_LEVEL },
  });
  await listenWithGracefulShutdown(storage, { host: storageConfig.HOST, port: storageConfig.PORT });
  const storageUrl = publicBaseUrl(storageConfig);

  console.log(`
Forms platform is running on its embedded default (data in ${storageConfig.DATA_DIR}).

  storage API      ${storageUrl}${API_PREFIX}
  storage docs     ${storageUrl}/storage/swagger

Stop with Ctrl-C.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
