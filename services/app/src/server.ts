import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import { listenWithGracefulShutdown } from '@forms/service-kit';
import { buildAppService } from './app';
import { loadAppServiceConfig } from './config';
import { obtainOrgToken, OrgTokenError } from './domain/org-token';
import { registerInStorage } from './domain/registration';

async function main(): Promise<void> {
  const config = loadAppServiceConfig();
  const definition = await loadAppDefinition(config.APP_DIR);
  const storage = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS });
  const app = await buildAppService({ config, definition, storage });
  // The org token (ORG_TOKEN, or client credentials of the org's client) registers the app in storage before
  // the service takes requests.
  let orgToken: string | undefined;
  try {
    orgToken = await obtainOrgToken(config, { log: app.log });
  } catch (error) {
    if (!(error instanceof OrgTokenError)) throw error;
    // A configuration or token service problem, said in one line: no stack trace to dig it out of.
    app.log.fatal(error.message);
    process.exit(1);
  }
  if (orgToken !== undefined) await registerInStorage(definition, storage, orgToken);
  const address = await listenWithGracefulShutdown(app, { host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000 });
  app.log.info(`app ${definition.metadata.id} at ${address}/${definition.metadata.id}, docs at ${address}/${definition.metadata.id}/swagger`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
