import { listenWithGracefulShutdown } from '@forms/service-kit';
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
  console.error(error);
  process.exit(1);
});
