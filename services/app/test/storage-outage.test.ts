/**
 * When storage is down, hangs or dies mid-request, the app answers promptly with 503/504 and a clear problem,
 * not a hang, and leaves nothing half-made. The faults are real: a TCP proxy in front of the real storage service
 * refuses connections, swallows them, or resets the one carrying a given request.
 */
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import type { TypedFastify } from '@forms/service-kit';
import { FaultProxy } from '@forms/test-support';
import { buildAppService } from '../src/app';
import { loadAppServiceConfig } from '../src/config';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { expectProblem, instanceCount, storedInstance } from './support/fixtures';

let h: AppHarness;
let proxy: FaultProxy;
/** The app service under test: it reaches storage only through the proxy. */
let app: TypedFastify;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  proxy = await FaultProxy.start(h.storageUrl);
  const config = loadAppServiceConfig({
    APP_DIR: appFolder('nav/child-benefit'),
    STORAGE_URL: proxy.urlFor(h.storageUrl),
    STORAGE_TIMEOUT_MS: '3000',
    JWKS_URL: h.storage.issuer.jwksUrl,
    TOKEN_ISSUER: h.storage.issuer.issuer,
  });
  const definition = await loadAppDefinition(config.APP_DIR);
  // The app's own token beside the party's, as the app service sends it.
  const appToken = h.storage.issuer.appToken({ app: 'nav/child-benefit' });
  const storage = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS, accessToken: async () => appToken });
  app = await buildAppService({ config, definition, storage, logger: false });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await proxy.stop();
  await h.close();
});

const create = () =>
  app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: h.storage.auth.owner, payload: {} });

test('storage unreachable: 503 STORAGE_UNAVAILABLE, and the service reports itself not ready', async () => {
  await proxy.down();
  const before = await instanceCount(h, h.storage.auth.nav, OWNER_PARTY);
  expectProblem(await create(), 503, 'STORAGE_UNAVAILABLE');
  expect((await app.inject({ url: '/ready' })).statusCode).toBe(503);
  // Liveness is not readiness: the process itself is fine.
  expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  expect(await instanceCount(h, h.storage.auth.nav, OWNER_PARTY)).toBe(before);
});

test('storage not answering: 504 STORAGE_TIMEOUT after the configured timeout, not a hang', async () => {
  await proxy.up();
  proxy.setMode({ kind: 'silent' });
  expectProblem(await create(), 504, 'STORAGE_TIMEOUT');
});

test('with storage back, the same request to the same service succeeds', async () => {
  proxy.setMode({ kind: 'pass' });
  const created = await create();
  expect(created.statusCode).toBe(201);
  expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
  expect(await storedInstance(h, h.storage.auth.owner, created.json().id)).toBeDefined();
});

test('the connection carrying the creation reset: 503, and no instance, with or without its form', async () => {
  const before = await instanceCount(h, h.storage.auth.nav, OWNER_PARTY);
  // The instance and its prefilled form travel in one request; the connection carrying it is reset.
  proxy.setMode({ kind: 'reset', when: (method, path) => method === 'POST' && /\/instances\?appId=/.test(path) });
  const seenBefore = proxy.seen.length;
  expectProblem(await create(), 503, 'STORAGE_UNAVAILABLE');
  proxy.setMode({ kind: 'pass' });
  // One call, no upload or clean-up call after it.
  expect(proxy.seen.slice(seenBefore)).toEqual([expect.stringMatching(/^POST \/storage\/api\/v1\/instances\?appId=nav(\/|%2F)child-benefit$/)]);
  expect(await instanceCount(h, h.storage.auth.nav, OWNER_PARTY)).toBe(before);
});
