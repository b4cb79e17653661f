import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import { listenWithGracefulShutdown } from '@forms/service-kit';
import { buildAppService } from './app';
import { loadAppServiceConfig } from './config';
import { registerInStorage } from './domain/registration';

async function main(): Promise<void> {
  const config = loadAppServiceConfig();
  const definition = await loadAppDefinition(config.APP_DIR);
  const storage = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS });
  if (config.ORG_TOKEN) await registerInStorage(definition, storage, config.ORG_TOKEN);
  const app = await buildAppService({ config, definition, storage });
  const address = await listenWithGracefulShutdown(app, { host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000 });
  app.log.info(`app ${definition.metadata.id} at ${address}/${definition.metadata.id}, docs at ${address}/${definition.metadata.id}/swagger`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
