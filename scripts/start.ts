/**
 * Starts the whole platform on its embedded default: no Docker, database or cloud account. `npm run up` runs
 * this after checking the install (scripts/up.mjs); `npm start` runs it alone.
 *
 * The token service, the storage service and one app service per folder in apps/<org>/<app> each run in their
 * own process, from their own entry point and configuration, as their containers would, wired together on
 * localhost. Development tokens are on (POST /authentication/api/v1/testtoken) and so is the admin API, with
 * a development key that is printed: a newcomer can try the APIs and the admin CLI at once. Each app gets a
 * client of its own through that admin API, as a deployment gives each app container one.
 *
 * Ctrl-C (or SIGTERM) stops the apps, then the events service, then storage, then the token service, each finishing its in-flight
 * requests first. If any service stops by itself, the others are stopped too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Scopes } from '@forms/contracts';
import { loadAppServiceConfig } from '../services/app/src/config';
import { ADMIN_PREFIX, loadAuthConfig, TEST_TOKEN_PATH, TOKEN_PATH } from '../services/auth/src/config';
import { API_PREFIX as EVENTS_API_PREFIX, loadEventsConfig } from '../services/events/src/config';
import { API_PREFIX, loadStorageConfig } from '../services/storage/src/config';
import { assertPortsFree, describeExit, localHost, ServiceProcess, type ServiceSpec } from './supervisor';

const ROOT = join(__dirname, '..');
const APPS_DIR = join(ROOT, 'apps');
const FIRST_APP_PORT = 5110;
const EVENTS_PORT = 5102;
/** The admin API key `up` serves unless ADMIN_API_KEY says otherwise. For this machine only, like test tokens. */
export const DEVELOPMENT_ADMIN_API_KEY = 'development-admin-key';
const READY_TIMEOUT_MS = 60_000;

/**
 * Each service listens on its own default port, so a PORT meant for one must not reach the others (nor a
 * METRICS_PORT: every service would try to take it); a DATA_DIR given for the whole platform holds one folder per
 * service (default ./.data).
 */
const { PORT: _port, METRICS_PORT: _metricsPort, DATA_DIR: dataDir, ...sharedEnv } = process.env;
const dataRoot = resolve(dataDir ?? '.data');
/** Request logs would drown the printed addresses; warnings and errors still show. */
const logLevel = sharedEnv.LOG_LEVEL ?? 'warn';

/** The example apps: every apps/<org>/<app> folder, with the id from its applicationmetadata.json. */
function appFolders(): { dir: string; id: string }[] {
  const isDir = (path: string) => statSync(path).isDirectory();
  return readdirSync(APPS_DIR)
    .map((org) => join(APPS_DIR, org))
    .filter(isDir)
    .flatMap((org) => readdirSync(org).map((app) => join(org, app)).filter(isDir))
    .sort()
    .map((dir) => ({ dir, id: (JSON.parse(readFileSync(join(dir, 'applicationmetadata.json'), 'utf8')) as { id: string }).id }));
}

/** Org numbers of the example apps' orgs; another org's apps get a stand-in (here the number is only a claim). */
const DEVELOPMENT_ORG_NUMBERS: Record<string, string> = { nav: '889640782', skd: '974761076' };

/**
 * Registers the app's own client at the token service, afresh at every start, through the admin API. The app
 * service gets its tokens with it by client credentials (ORG_CLIENT_ID, ORG_CLIENT_SECRET, ORG_TOKEN_URL), as it
 * does in a container, and so renews them itself however long it runs.
 */
async function registerAppClient(authUrl: string, adminKey: string, appId: string): Promise<{ clientId: string; clientSecret: string }> {
  const org = appId.split('/')[0] as string;
  return registerClient(authUrl, adminKey, `app.${appId.replace('/', '.')}`, {
    kind: 'org',
    org,
    orgNumber: DEVELOPMENT_ORG_NUMBERS[org] ?? '999999999',
    // Its tokens name the app: storage lets it act for parties in this app only (ADR 0012).
    app: appId,
    name: `app service ${appId} (npm run up)`,
    scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite],
  });
}

/** The events service's own client: the one that may read storage's change feed of every app (ADR 0014). */
const registerEventsClient = (authUrl: string, adminKey: string) =>
  registerClient(authUrl, adminKey, 'platform.events', {
    kind: 'org',
    org: 'platform',
    orgNumber: '999999999',
    name: 'events service (npm run up)',
    scopes: [Scopes.storageEventsFeed],
  });

async function registerClient(authUrl: string, adminKey: string, clientId: string, registration: object): Promise<{ clientId: string; clientSecret: string }> {
  const admin = { authorization: `Bearer ${adminKey}` };
  const removed = await fetch(`${authUrl}${ADMIN_PREFIX}/clients/${clientId}`, { method: 'DELETE', headers: admin });
  if (removed.status !== 204 && removed.status !== 404) throw new Error(`the admin API refused to replace the client ${clientId}: ${removed.status}`);
  const response = await fetch(`${authUrl}${ADMIN_PREFIX}/clients`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId, ...registration }),
  });
  if (response.status !== 201) throw new Error(`registering the client ${clientId}: ${response.status} ${await response.text()}`);
  return { clientId, clientSecret: ((await response.json()) as { clientSecret: string }).clientSecret };
}

/** The running services, stopped in dependency order: apps, then events, then storage, then the token service. */
class Platform {
  readonly apps: ServiceProcess[] = [];
  events: ServiceProcess | undefined;
  storage: ServiceProcess | undefined;
  auth: ServiceProcess | undefined;
  /** Set once every service is ready; until then a service that ends is reported by the start itself. */
  running = false;
  /** How long a stage may take to stop before its processes are killed: the services' grace period, and time to exit. */
  graceMs = 15_000;
  private stopping: Promise<void> | undefined;

  start(spec: ServiceSpec): ServiceProcess {
    const service = new ServiceProcess(spec, ROOT);
    void service.exited.then((exit) => {
      if (this.stopping || !this.running) return;
      console.error(`${spec.name} stopped unexpectedly (${describeExit(exit)}); stopping the platform.`);
      void this.stop(1);
    });
    return service;
  }

  /** Idempotent: a Ctrl-C that reaches this process twice (from the terminal and from npm) stops it once. */
  stop(exitCode: number, message?: string): Promise<void> {
    this.stopping ??= (async () => {
      const stages = [this.apps, [this.events], [this.storage], [this.auth]];
      for (const stage of stages) {
        await Promise.all(stage.map((service) => service?.stop(this.graceMs)));
      }
      if (message) console.log(message);
      process.exit(exitCode);
    })();
    return this.stopping;
  }
}

async function main(platform: Platform): Promise<void> {
  const authEnv = { TEST_TOKENS_ENABLED: 'true', ADMIN_API_KEY: DEVELOPMENT_ADMIN_API_KEY, ...sharedEnv, LOG_LEVEL: logLevel, DATA_DIR: join(dataRoot, 'auth') };
  const authConfig = loadAuthConfig(authEnv);
  const authSpec: ServiceSpec = { name: 'token service', entry: 'services/auth/src/server.ts', env: authEnv, host: authConfig.HOST, port: authConfig.PORT };
  const authUrl = `http://${localHost(authConfig.HOST)}:${authConfig.PORT}`;
  const trust = { JWKS_URL: `${authUrl}/.well-known/jwks.json`, TOKEN_ISSUER: authConfig.ISSUER, TOKEN_AUDIENCE: authConfig.AUDIENCE };

  const storageEnv = { ...sharedEnv, LOG_LEVEL: logLevel, DATA_DIR: join(dataRoot, 'storage'), ...trust };
  const storageConfig = loadStorageConfig(storageEnv);
  const storageSpec: ServiceSpec = { name: 'storage', entry: 'services/storage/src/server.ts', env: storageEnv, host: storageConfig.HOST, port: storageConfig.PORT };
  const storageBase = `http://${localHost(storageConfig.HOST)}:${storageConfig.PORT}`;

  const appSpecs = appFolders().map(({ dir, id }, index): ServiceSpec & { id: string } => {
    const env = { ...sharedEnv, LOG_LEVEL: logLevel, ...trust, APP_DIR: dir, STORAGE_URL: `${storageBase}${API_PREFIX}`, PORT: String(FIRST_APP_PORT + index) };
    const config = loadAppServiceConfig(env);
    return { id, name: `app ${id}`, entry: 'services/app/src/server.ts', env, host: config.HOST, port: config.PORT };
  });
  // The events service names each event's source by the app's own address here.
  const appBaseUrls = appSpecs.map((spec) => `${spec.id}=http://${localHost(spec.host)}:${spec.port}`).join(',');
  const eventsEnv = {
    ...sharedEnv,
    LOG_LEVEL: logLevel,
    DATA_DIR: join(dataRoot, 'events'),
    ...trust,
    STORAGE_URL: `${storageBase}${API_PREFIX}`,
    AUTH_URL: authUrl,
    APP_BASE_URLS: appBaseUrls,
    // Local development: subscribers on this machine (localhost endpoints) are allowed.
    ALLOW_PRIVATE_ENDPOINTS: sharedEnv.ALLOW_PRIVATE_ENDPOINTS ?? 'true',
    PORT: String(EVENTS_PORT),
  };
  const eventsConfig = loadEventsConfig(eventsEnv);
  const eventsSpec: ServiceSpec = { name: 'events', entry: 'services/events/src/server.ts', env: eventsEnv, host: eventsConfig.HOST, port: eventsConfig.PORT };
  const eventsBase = `http://${localHost(eventsConfig.HOST)}:${eventsConfig.PORT}`;
  const adminApiKey = authConfig.ADMIN_API_KEY;
  if (!adminApiKey) throw new Error('the apps get their clients through the admin API: leave ADMIN_API_KEY unset, or give it 16 or more characters');
  await assertPortsFree([authSpec, storageSpec, eventsSpec, ...appSpecs]);
  platform.graceMs = Math.max(authConfig.SHUTDOWN_GRACE_SECONDS, storageConfig.SHUTDOWN_GRACE_SECONDS) * 1000 + 5_000;

  // The token service and storage start side by side (storage fetches the keys only when a request comes).
  platform.auth = platform.start(authSpec);
  platform.storage = platform.start(storageSpec);
  await Promise.all([platform.auth.waitReady(READY_TIMEOUT_MS), platform.storage.waitReady(READY_TIMEOUT_MS)]);

  // Each app gets its token by client credentials with a client of its own, registers itself in storage with it
  // and renews it while it runs, as a container does.
  for (const spec of appSpecs) {
    const client = await registerAppClient(authUrl, adminApiKey, spec.id);
    const orgClient = { ORG_CLIENT_ID: client.clientId, ORG_CLIENT_SECRET: client.clientSecret, ORG_TOKEN_URL: `${authUrl}${TOKEN_PATH}` };
    platform.apps.push(platform.start({ ...spec, env: { ...spec.env, ...orgClient } }));
  }
  const eventsClient = await registerEventsClient(authUrl, adminApiKey);
  platform.events = platform.start({ ...eventsSpec, env: { ...eventsSpec.env, FEED_CLIENT_ID: eventsClient.clientId, FEED_CLIENT_SECRET: eventsClient.clientSecret } });
  await Promise.all([...platform.apps, platform.events].map((service) => service.waitReady(READY_TIMEOUT_MS)));

  const appLines = platform.apps.map(({ spec, baseUrl }) => {
    const id = spec.name.replace(/^app /, '');
    return `  app ${id.padEnd(20)} ${baseUrl}/${id}   (docs ${baseUrl}/${id}/swagger)`;
  });
  const adminKey = authEnv.ADMIN_API_KEY === DEVELOPMENT_ADMIN_API_KEY ? ` (admin API key: ${DEVELOPMENT_ADMIN_API_KEY})` : ' (admin API key from ADMIN_API_KEY)';
  console.log(`
Forms platform is running on its embedded default, each service in its own process (data in ${dataRoot}).

  token service            ${authUrl}/authentication/api/v1   (docs ${authUrl}/authentication/swagger)
                           development tokens on${adminKey}
  storage                  ${storageBase}${API_PREFIX}   (docs ${storageBase}/storage/swagger)
  events                   ${eventsBase}${EVENTS_API_PREFIX}   (docs ${eventsBase}/events/swagger)
${appLines.join('\n')}

Try it: get a development token for person 50001 and create a child-benefit application.

  ME=$(curl -s -X POST ${authUrl}${TEST_TOKEN_PATH} -H 'content-type: application/json' \\
        -d '{"userId":"1001","partyId":"50001"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -X POST 'http://127.0.0.1:${FIRST_APP_PORT}/nav/child-benefit/instances?instanceOwnerPartyId=50001' \\
       -H "authorization: Bearer $ME" -H 'content-type: application/json' -d '{}'

Stop with Ctrl-C.`);
  platform.running = true;
}

const platform = new Platform();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void platform.stop(0, 'Forms platform stopped: apps, events, storage and token service closed gracefully.'));
}
main(platform).catch((error: unknown) => {
  // One line, not a stack trace: a busy port, a service that could not start (it has said why), a bad setting.
  console.error(`npm run up: ${error instanceof Error ? error.message : String(error)}`);
  void platform.stop(1);
});
