import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceBundles } from './bundles';
import { log, startProcess, type ServiceProcess } from './processes';

const HOST = '127.0.0.1';
export const DEFAULT_PORTS = { auth: 5290, storage: 5291, app: 5292, floor: 5298, bare: 5299 };
export type Ports = typeof DEFAULT_PORTS;
export const PARTY = '50001';
/** A party with only a handful of instances, for the rare-filter query. */
export const RARE_PARTY = '50002';
export const BENCH_APP = 'bench/load';

export interface PlatformUrls {
  auth: string;
  /** Storage's API base, …/storage/api/v1. */
  storage: string;
  /** The nav/child-benefit app's base, …/nav/child-benefit. */
  app: string;
  bare: string;
  /** bench/store-floor.ts, once a scenario has started it (`startStoreFloor`). */
  floor: string;
}

export interface PlatformOptions {
  ports?: Partial<Ports>;
  /** Extra storage configuration, e.g. another metadata store (from BENCH_STORAGE_ENV, JSON, for the default platform). */
  storageEnv?: Record<string, string>;
}

/** The services as deployed, each in its own process, and the tokens and ids the scenarios use. */
export interface Platform {
  urls: PlatformUrls;
  auth: ServiceProcess;
  storage: ServiceProcess;
  app: ServiceProcess;
  tokens: { person: string; rarePerson: string; org: string; app: string };
  /** An instance of bench/load (its document is what bare Fastify answers). */
  instanceId: string;
  instanceJson: string;
  /** Started by `startBare` once the instance exists. */
  bare?: ServiceProcess;
  stop(): Promise<void>;
}

export async function json<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Starts auth, storage and the nav/child-benefit app service (embedded default, in a temp folder, unless
 * `storageEnv` says otherwise) and bare Fastify, each in its own process. A scenario may start a second platform
 * of its own on other ports.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const PORTS = { ...DEFAULT_PORTS, ...options.ports };
  const AUTH = `http://${HOST}:${PORTS.auth}`;
  const STORAGE = `http://${HOST}:${PORTS.storage}/storage/api/v1`;
  const urls: PlatformUrls = { auth: AUTH, storage: STORAGE, app: `http://${HOST}:${PORTS.app}/nav/child-benefit`, bare: `http://${HOST}:${PORTS.bare}`, floor: `http://${HOST}:${PORTS.floor}` };
  const testToken = async (body: Record<string, unknown>): Promise<string> => {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, expiresInSeconds: 3600 }) };
    return (await json<{ access_token: string }>(`${AUTH}/authentication/api/v1/testtoken`, init)).access_token;
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'forms-bench-'));
  log(`platform: embedded default, data in ${dataDir}`);
  const bundles = serviceBundles();
  const common = { HOST, LOG_LEVEL: 'warn' };
  const started: ServiceProcess[] = [];
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const auth = await startProcess(
      'auth',
      bundles.server('auth'),
      { ...common, NODE_PATH: bundles.nodePath('auth'), PORT: String(PORTS.auth), ISSUER: AUTH, DATA_DIR: join(dataDir, 'auth'), TEST_TOKENS_ENABLED: 'true' },
      `${AUTH}/health`,
    );
    started.push(auth);
    const trust = { JWKS_URL: `${AUTH}/.well-known/jwks.json`, TOKEN_ISSUER: AUTH };
    const storage = await startProcess(
      'storage',
      bundles.server('storage'),
      { ...common, ...trust, NODE_PATH: bundles.nodePath('storage'), PORT: String(PORTS.storage), DATA_DIR: join(dataDir, 'storage'), MAX_DATA_ELEMENT_MB: '2048', ...options.storageEnv },
      `http://${HOST}:${PORTS.storage}/health`,
    );
    started.push(storage);
    // The app service's own token (it names the app): it registers the app and acts for parties in storage.
    const navToken = await testToken({ org: 'nav', app: 'nav/child-benefit' });
    const app = await startProcess(
      'app',
      bundles.server('app'),
      { ...common, ...trust, NODE_PATH: bundles.nodePath('app'), PORT: String(PORTS.app), APP_DIR: bundles.appDir('nav/child-benefit'), STORAGE_URL: STORAGE, ORG_TOKEN: navToken },
      `http://${HOST}:${PORTS.app}/ready`,
    );
    started.push(app);

    const tokens = {
      person: await testToken({ userId: '1001', partyId: PARTY }),
      rarePerson: await testToken({ userId: '1002', partyId: RARE_PARTY }),
      org: await testToken({ org: 'bench' }),
      /** The bench app's own token: storage creates instances for a party only when its app asks. */
      app: await testToken({ org: 'bench', app: BENCH_APP }),
    };
    await json(`${STORAGE}/applications/${BENCH_APP}`, {
      method: 'POST',
      headers: { ...bearer(tokens.org), 'content-type': 'application/json' },
      body: JSON.stringify({ dataTypes: [{ id: 'file', allowedContentTypes: ['application/octet-stream'], maxCount: 0, minCount: 0 }] }),
    });
    const created = await json<{ id: string }>(`${STORAGE}/instances?appId=${BENCH_APP}`, {
      method: 'POST',
      headers: { ...bearer(tokens.person), platformaccesstoken: tokens.app, 'content-type': 'application/json' },
      body: JSON.stringify({ instanceOwner: { partyId: PARTY } }),
    });
    const instanceJson = JSON.stringify(await json(`${STORAGE}/instances/${created.id}`, { headers: bearer(tokens.person) }));
    const platform: Platform = {
      urls,
      auth,
      storage,
      app,
      tokens,
      instanceId: created.id,
      instanceJson,
      async stop() {
        await stopAll();
      },
    };
    platform.bare = await startProcess('bare', 'bench/bare.mjs', { PORT: String(PORTS.bare), BARE_INSTANCE: instanceJson }, /listening/);
    started.push(platform.bare);
    return platform;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The floor under storage's POST instance (bench/store-floor.ts): bare Fastify plus the durable write of an instance
 * and its event through storage's embedded store, in a process of its own. The caller stops it.
 */
export function startStoreFloor(platform: Platform): Promise<ServiceProcess> {
  const port = new URL(platform.urls.floor).port;
  return startProcess('floor', 'bench/store-floor.ts', { PORT: port, BARE_INSTANCE: platform.instanceJson }, /listening/);
}
