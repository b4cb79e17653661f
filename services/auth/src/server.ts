import { listenWithGracefulShutdown } from '@forms/service-kit';
import { DataDirLockedError } from './adapters';
import { buildAuthService } from './app';
import { loadAuthConfig, TOKEN_PATH } from './config';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  const app = await buildAuthService({ config });
  const address = await listenWithGracefulShutdown(app, {
    host: config.HOST,
    port: config.PORT,
    shutdownGraceMs: config.SHUTDOWN_GRACE_SECONDS * 1000,
  });
  app.log.info(`token service at ${address}: issuer ${config.ISSUER}, token endpoint ${TOKEN_PATH}, docs at ${address}/authentication/swagger`);
}

main().catch((error: unknown) => {
  // Another process holds DATA_DIR: one line that says what to do, not a stack trace to dig it out of.
  if (error instanceof DataDirLockedError) console.error(`token service not started: ${error.message}.`);
  else console.error(error);
  process.exit(1);
});
