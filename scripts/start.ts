/**
 * Starts the whole platform in one process on its embedded default: no Docker, database or cloud account.
 * The token service, the storage service and one app service per folder in apps/<org>/<app>, each built
 * from its own configuration as it would be in its container, and wired together on localhost.
 *
 * Development tokens are on (POST /authentication/api/v1/testtoken), so a newcomer can try the APIs with
 * curl at once; each app gets its own token (naming the app) minted that way, to register itself in storage
 * and to act for parties there.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import { Scopes } from '@forms/contracts';
import { closeTogetherOnShutdown, type TypedFastify } from '@forms/service-kit';
import { buildAppService } from '../services/app/src/app';
import { loadAppServiceConfig } from '../services/app/src/config';
import { registerInStorage } from '../services/app/src/domain/registration';
import { buildAuthService } from '../services/auth/src/app';
import { loadAuthConfig, TEST_TOKEN_PATH } from '../services/auth/src/config';
import { createBlobStore, createMetadataStore } from '../services/storage/src/adapters';
import { buildStorageApp, publicBaseUrl } from '../services/storage/src/app';
import { API_PREFIX, loadStorageConfig } from '../services/storage/src/config';

const APPS_DIR = join(__dirname, '..', 'apps');
const FIRST_APP_PORT = 5110;

/**
 * Each service listens on its own default port, so a PORT meant for one must not reach the others; a
 * DATA_DIR given for the whole platform holds one folder per service.
 */
const { PORT: _port, DATA_DIR: dataDir, ...sharedEnv } = process.env;
const dataDirOf = (service: string) => (dataDir ? { DATA_DIR: join(dataDir, service) } : {});

/** The example apps: every apps/<org>/<app> folder. */
function appFolders(): string[] {
  const isDir = (path: string) => statSync(path).isDirectory();
  return readdirSync(APPS_DIR)
    .map((org) => join(APPS_DIR, org))
    .filter(isDir)
    .flatMap((org) => readdirSync(org).map((app) => join(org, app)).filter(isDir))
    .sort();
}

async function testToken(auth: TypedFastify, body: Record<string, unknown>): Promise<string> {
  const response = await auth.inject({ method: 'POST', url: TEST_TOKEN_PATH, payload: body });
  if (response.statusCode !== 200) throw new Error(`test token: ${response.statusCode} ${response.body}`);
  return response.json<{ access_token: string }>().access_token;
}

/** A token minted again a minute before it expires. */
function renewing(mint: () => Promise<string>): () => Promise<string> {
  let current: { token: string; renewAt: number } | undefined;
  return async () => {
    if (current && Date.now() < current.renewAt) return current.token;
    const token = await mint();
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    current = { token, renewAt: exp * 1000 - 60_000 };
    return token;
  };
}

const quiet = (level: string) => ({ level: level === 'info' ? 'warn' : level });

async function main(): Promise<void> {
  const authConfig = loadAuthConfig({ TEST_TOKENS_ENABLED: 'true', ...sharedEnv, ...dataDirOf('auth') });
  const auth = await buildAuthService({ config: authConfig, logger: quiet(authConfig.LOG_LEVEL) });
  // Apps first, then storage, then the token service: each closes before what it calls.
  const started: TypedFastify[] = [auth];
  closeTogetherOnShutdown(started);
  await auth.listen({ host: authConfig.HOST, port: authConfig.PORT });
  const authUrl = `http://${authConfig.HOST}:${authConfig.PORT}`;

  const trust = { JWKS_URL: `${authUrl}/.well-known/jwks.json`, TOKEN_ISSUER: authConfig.ISSUER, TOKEN_AUDIENCE: authConfig.AUDIENCE };
  const storageConfig = loadStorageConfig({ ...sharedEnv, ...dataDirOf('storage'), ...trust });
  const storage = await buildStorageApp({
    config: storageConfig,
    store: createMetadataStore(storageConfig),
    blobs: createBlobStore(storageConfig),
    logger: quiet(storageConfig.LOG_LEVEL),
  });
  started.unshift(storage);
  await storage.listen({ host: storageConfig.HOST, port: storageConfig.PORT });
  const storageUrl = `${publicBaseUrl(storageConfig)}${API_PREFIX}`;

  const appLines: string[] = [];
  for (const [index, folder] of appFolders().entries()) {
    const config = loadAppServiceConfig({ ...sharedEnv, ...trust, APP_DIR: folder, STORAGE_URL: storageUrl, PORT: String(FIRST_APP_PORT + index) });
    const definition = await loadAppDefinition(config.APP_DIR);
    // The app's own token (naming the app), renewed before it expires: storage lets only the app act for parties.
    const appToken = renewing(() => testToken(auth, { org: definition.org, app: definition.metadata.id, scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] }));
    const client = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS, accessToken: appToken });
    await registerInStorage(definition, client, await appToken());
    const app = await buildAppService({ config, definition, storage: client, logger: quiet(config.LOG_LEVEL) });
    started.unshift(app);
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    const id = definition.metadata.id;
    appLines.push(`  app ${id.padEnd(20)} ${address}/${id}   (docs ${address}/${id}/swagger)`);
  }

  console.log(`
Forms platform is running on its embedded default (data in ${storageConfig.DATA_DIR} and ${authConfig.DATA_DIR}).

  token service            ${authUrl}/authentication/api/v1   (docs ${authUrl}/authentication/swagger)
  storage                  ${storageUrl}   (docs ${publicBaseUrl(storageConfig)}/storage/swagger)
${appLines.join('\n')}

Try it: get a development token for person 50001 and create a child-benefit application.

  ME=$(curl -s -X POST ${authUrl}${TEST_TOKEN_PATH} -H 'content-type: application/json' \\
        -d '{"userId":"1001","partyId":"50001"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -X POST 'http://127.0.0.1:${FIRST_APP_PORT}/nav/child-benefit/instances?instanceOwnerPartyId=50001' \\
       -H "authorization: Bearer $ME" -H 'content-type: application/json' -d '{}'

Stop with Ctrl-C.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
