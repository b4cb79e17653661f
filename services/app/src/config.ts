import { Type, type Static } from '@sinclair/typebox';
import { TOKEN_PATH } from '@forms/client';
import { TokenVerificationConfig } from '@forms/auth-plugin';
import { loadConfig, ServerConfig } from '@forms/service-kit';

/** Configuration of one app service container (one `<org>/<app>`). */
export const AppServiceConfigSchema = Type.Object({
  APP_DIR: Type.String({ description: 'Folder of the app definition' }),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 5110, minimum: 0, maximum: 65535 }),
  STORAGE_URL: Type.String({ default: 'http://127.0.0.1:5101/storage/api/v1' }),
  // Below the SDK's default of 10 s, so a caller with it sees the app's 504 rather than its own timeout.
  STORAGE_TIMEOUT_MS: Type.Integer({ default: 5_000, minimum: 100 }),
  ...TokenVerificationConfig,
  // Where the org token for the registration in storage at start-up comes from (src/domain/org-token.ts):
  // ORG_TOKEN as it is, else client credentials of the org's client at ORG_TOKEN_URL, else no registration.
  /** A service-owner token of the app's org, used to register the app's metadata in storage at start-up. */
  ORG_TOKEN: Type.Optional(Type.String()),
  ORG_TOKEN_URL: Type.Optional(
    Type.String({ description: `The token service's token endpoint (…${TOKEN_PATH}), e.g. http://auth:5100${TOKEN_PATH}` }),
  ),
  ORG_CLIENT_ID: Type.Optional(Type.String({ description: "The org's client at the token service (with ORG_CLIENT_SECRET)" })),
  ORG_CLIENT_SECRET: Type.Optional(Type.String({ description: 'Secret of ORG_CLIENT_ID' })),
  ORG_CLIENT_FILE: Type.Optional(
    Type.String({ description: 'Instead of ORG_CLIENT_ID/ORG_CLIENT_SECRET: a JSON file with them, e.g. what the token service CLI `clients add` prints' }),
  ),
  MAX_FORM_DATA_KB: Type.Integer({ default: 1024, minimum: 1 }),
  ...ServerConfig,
});
export type AppServiceConfig = Static<typeof AppServiceConfigSchema>;

/** The org token variables; empty counts as unset (compose and manifests often pass `VAR: ""`). */
const ORG_VARIABLES = ['ORG_TOKEN', 'ORG_TOKEN_URL', 'ORG_CLIENT_ID', 'ORG_CLIENT_SECRET', 'ORG_CLIENT_FILE'] as const;

/** Reads and checks the configuration; throws, naming the variable, on anything it would not run with. */
export function loadAppServiceConfig(env: Record<string, string | undefined> = process.env): AppServiceConfig {
  const orgUnsetIfEmpty = Object.fromEntries(ORG_VARIABLES.filter((name) => env[name] === '').map((name) => [name, undefined]));
  const config = loadConfig(AppServiceConfigSchema, { ...env, ...orgUnsetIfEmpty });
  checkOrgClient(config);
  return config;
}

/** Both ORG_CLIENT_ID and ORG_CLIENT_SECRET, or ORG_CLIENT_FILE, or neither; with a client, a usable ORG_TOKEN_URL. */
function checkOrgClient(config: AppServiceConfig): void {
  const byId = config.ORG_CLIENT_ID !== undefined || config.ORG_CLIENT_SECRET !== undefined;
  if (byId && (config.ORG_CLIENT_ID === undefined || config.ORG_CLIENT_SECRET === undefined)) {
    throw new Error('set both ORG_CLIENT_ID and ORG_CLIENT_SECRET (or ORG_CLIENT_FILE instead)');
  }
  if (byId && config.ORG_CLIENT_FILE !== undefined) {
    throw new Error('set ORG_CLIENT_ID and ORG_CLIENT_SECRET, or ORG_CLIENT_FILE, not both');
  }
  const client = byId || config.ORG_CLIENT_FILE !== undefined;
  if (client && config.ORG_TOKEN_URL === undefined) {
    throw new Error(`ORG_TOKEN_URL (the token endpoint, e.g. http://auth:5100${TOKEN_PATH}) is required with an org client`);
  }
  if (config.ORG_TOKEN_URL !== undefined) {
    config.ORG_TOKEN_URL = config.ORG_TOKEN_URL.replace(/\/+$/, '');
    authUrlOf(config.ORG_TOKEN_URL); // throws if unusable
  }
}

/**
 * The token service's base URL (what TokenClient takes) of its token endpoint: ORG_TOKEN_URL without the token
 * path. A prefix before the path (a gateway's) is kept.
 */
export function authUrlOf(tokenUrl: string): string {
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    throw new Error('ORG_TOKEN_URL is not an absolute URL');
  }
  // Credentials in the URL would be logged with it, and fetch refuses them anyway.
  if (url.username !== '' || url.password !== '') throw new Error('ORG_TOKEN_URL must not hold credentials');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`ORG_TOKEN_URL "${tokenUrl}" is not an http(s) URL`);
  if (url.search !== '' || url.hash !== '' || !url.pathname.endsWith(TOKEN_PATH)) {
    throw new Error(`ORG_TOKEN_URL "${tokenUrl}" is not a token endpoint: it must end with ${TOKEN_PATH}`);
  }
  return `${url.origin}${url.pathname.slice(0, -TOKEN_PATH.length)}`;
}
