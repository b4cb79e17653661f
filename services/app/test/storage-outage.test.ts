/**
 * When storage is down or hangs, the app answers promptly with 503/504 and a clear problem, not a hang.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient, type StorageApi } from '@forms/client';
import { DomainError } from '@forms/contracts';
import type { TypedFastify } from '@forms/service-kit';
import { buildAppService } from '../src/app';
import { loadAppServiceConfig } from '../src/config';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { expectProblem, instanceCount } from './support/fixtures';

let h: AppHarness;
let silentStorage: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  // Accepts connections and never answers.
  silentStorage = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silentStorage.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silentStorage.close(resolve));
  await h.close();
});

/** The same app, with the same token issuer, in front of a storage at `storageUrl` (or the given client). */
async function appBefore(storageUrl: string, client?: StorageApi): Promise<TypedFastify> {
  const config = loadAppServiceConfig({
    APP_DIR: appFolder('nav/child-benefit'),
    STORAGE_URL: storageUrl,
    STORAGE_TIMEOUT_MS: '300',
    JWKS_URL: h.storage.issuer.jwksUrl,
    TOKEN_ISSUER: h.storage.issuer.issuer,
  });
  const definition = await loadAppDefinition(config.APP_DIR);
  const storage = client ?? new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS });
  const app = await buildAppService({ config, definition, storage, logger: false });
  await app.ready();
  return app;
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('storage unreachable: 503 STORAGE_UNAVAILABLE, and the service reports itself not ready', async () => {
  const app = await appBefore(`http://127.0.0.1:${await closedPort()}/storage/api/v1`);
  try {
    const create = await app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: h.storage.auth.owner, payload: {} });
    expectProblem(create, 503, 'STORAGE_UNAVAILABLE');
    const ready = await app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    // Liveness is not readiness: the process itself is fine.
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  } finally {
    await app.close();
  }
});

test('storage not answering: 504 STORAGE_TIMEOUT after the configured timeout, not a hang', async () => {
  const { port } = silentStorage.address() as AddressInfo;
  const app = await appBefore(`http://127.0.0.1:${port}/storage/api/v1`);
  try {
    const create = await app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: h.storage.auth.owner, payload: {} });
    expectProblem(create, 504, 'STORAGE_TIMEOUT');
  } finally {
    await app.close();
  }
});

test('with storage back, the same request succeeds', async () => {
  const create = await h.app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: h.storage.auth.owner, payload: {} });
  expect(create.statusCode).toBe(201);
  expect((await h.app.inject({ url: '/ready' })).statusCode).toBe(200);
});

test('storage failing after the instance was created: 503, and the half-made instance is removed', async () => {
  const appToken = h.storage.issuer.appToken({ app: 'nav/child-benefit' });
  const real = new StorageClient({ baseUrl: h.storageUrl, timeoutMs: 3000, accessToken: async () => appToken });
  // Storage accepts the instance, then is unreachable for the prefilled form (a fault injected at the network edge).
  const flaky: StorageApi = Object.assign(Object.create(real) as StorageClient, {
    uploadData: async () => {
      throw new DomainError('unavailable', 'STORAGE_UNAVAILABLE', 'The storage service cannot be reached.');
    },
  });
  const app = await appBefore(h.storageUrl, flaky);
  try {
    const before = await instanceCount(h, h.storage.auth.nav, OWNER_PARTY);
    const create = await app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: h.storage.auth.owner, payload: {} });
    expectProblem(create, 503, 'STORAGE_UNAVAILABLE');
    expect(await instanceCount(h, h.storage.auth.nav, OWNER_PARTY)).toBe(before);
  } finally {
    await app.close();
  }
});
