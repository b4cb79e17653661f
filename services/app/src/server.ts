import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import { listenWithGracefulShutdown } from '@forms/service-kit';
import { buildAppService } from './app';
import { loadAppServiceConfig } from './config';
import { checkAppToken, obtainAppToken, type AppTokenSource } from './domain/app-token';
import { OrgTokenError } from './domain/org-token';
import { registerInStorage } from './domain/registration';

async function main(): Promise<void> {
  const config = loadAppServiceConfig();
  const definition = await loadAppDefinition(config.APP_DIR);
  let tokens: AppTokenSource | undefined;
  // The app's own token goes to storage beside the party's on every call (src/domain/app-token.ts).
  const storage = new StorageClient({
    baseUrl: config.STORAGE_URL,
    timeoutMs: config.STORAGE_TIMEOUT_MS,
    accessToken: async () => (tokens ? tokens.token() : ''),
  });
  const app = await buildAppService({ config, definition, storage });
  // The app's own token (ORG_TOKEN, or client credentials of the app's client) registers the app in storage
  // before the service takes requests.
  let appToken: string | undefined;
  try {
    const first = await obtainAppToken(config, { log: app.log });
    tokens = first?.source;
    appToken = first?.token;
    if (appToken !== undefined) checkAppToken(appToken, definition.metadata.id, config.ORG_TOKEN !== undefined ? 'ORG_TOKEN' : 'the app client');
  } catch (error) {
    if (!(error instanceof OrgTokenError)) throw error;
    // A configuration or token service problem, said in one line: no stack trace to dig it out of.
    app.log.fatal(error.message);
    process.exit(1);
  }
  if (appToken !== undefined) await registerInStorage(definition, storage, appToken);
  else app.log.warn('storage refuses the writes only the app may make (instances, process, form data) without the app token');
  const address = await listenWithGracefulShutdown(app, { host: config.HOST, port: config.PORT, shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000 });
  app.log.info(`app ${definition.metadata.id} at ${address}/${definition.metadata.id}, docs at ${address}/${definition.metadata.id}/swagger`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
