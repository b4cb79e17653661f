import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@forms/service-kit';

/** Configuration of one app service container (one `<org>/<app>`). */
export const AppServiceConfigSchema = Type.Object({
  APP_DIR: Type.String({ description: 'Folder of the app definition' }),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 5110, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  STORAGE_URL: Type.String({ default: 'http://127.0.0.1:5101/storage/api/v1' }),
  STORAGE_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100 }),
  JWKS_URL: Type.String({ default: 'http://127.0.0.1:5100/.well-known/jwks.json' }),
  TOKEN_ISSUER: Type.String({ default: 'http://127.0.0.1:5100' }),
  TOKEN_AUDIENCE: Type.Optional(Type.String()),
  /** A service-owner token of the app's org, used to register the app's metadata in storage at start-up. */
  ORG_TOKEN: Type.Optional(Type.String()),
  MAX_FORM_DATA_KB: Type.Integer({ default: 1024, minimum: 1 }),
  SHUTDOWN_GRACE_SECONDS: Type.Integer({ default: 10, minimum: 0 }),
});
export type AppServiceConfig = Static<typeof AppServiceConfigSchema>;

export const loadAppServiceConfig = (env?: Record<string, string | undefined>): AppServiceConfig => loadConfig(AppServiceConfigSchema, env);
