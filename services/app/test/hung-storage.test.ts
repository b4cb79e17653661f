/**
 * Storage stopped for real (SIGSTOP on its process) while the app works for a request: the app answers 504
 * within its storage timeout, however many storage calls the request makes; and a slow upload that keeps
 * moving is not cut off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient, type StorageApi } from '@forms/client';
import { Scopes, type Instance } from '@forms/contracts';
import type { TypedFastify } from '@forms/service-kit';
import { TestIssuer } from '@forms/test-support';
import { buildAppService } from '../src/app';
import { loadAppServiceConfig } from '../src/config';
import { registerInStorage } from '../src/domain/registration';
import { StorageProcess } from '../../storage/test/support/storage-process';
import { appFolder } from './support/app-harness';

const TIMEOUT_MS = 3000;
const PARTY = '50001';

let issuer: TestIssuer;
let dataDir: string;
let storage: StorageProcess;
let storageUrl: string;
let app: TypedFastify;
let owner: Record<string, string>;
let real: StorageClient;
let stallAfterRead = false;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'hung-storage-'));
  storage = await StorageProcess.start({ DATA_DIR: dataDir, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, REAPER_INTERVAL_SECONDS: '0' });
  storageUrl = storage.baseUrl;
  owner = { authorization: `Bearer ${issuer.userToken({ userId: 1001, partyId: PARTY, scopes: [Scopes.instancesRead, Scopes.instancesWrite] })}` };

  const config = loadAppServiceConfig({
    APP_DIR: appFolder('nav/child-benefit'),
    STORAGE_URL: storageUrl,
    STORAGE_TIMEOUT_MS: String(TIMEOUT_MS),
    JWKS_URL: issuer.jwksUrl,
    TOKEN_ISSUER: issuer.issuer,
  });
  const definition = await loadAppDefinition(config.APP_DIR);
  // The app service's own token, sent beside the party's: storage takes instance creation only from the app.
  const appToken = issuer.appToken({ app: 'nav/child-benefit', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
  real = new StorageClient({ baseUrl: storageUrl, timeoutMs: TIMEOUT_MS, accessToken: async () => appToken });
  await registerInStorage(definition, real, appToken);
  // While `stallAfterRead` is set, storage is slow to answer the first read of a request (stopped for 60 % of the
  // timeout) and stops for good right after, before the app's next call. The read goes through `this`: the
  // request's view of the client (StorageApi.within), bounded by its deadline.
  const getInstance = StorageClient.prototype.getInstance;
  const stopping: StorageApi = Object.assign(Object.create(real) as StorageClient, {
    async getInstance(this: StorageClient, ...args: Parameters<StorageClient['getInstance']>) {
      if (!stallAfterRead) return getInstance.apply(this, args);
      storage.send('SIGSTOP');
      const resume = setTimeout(() => storage.send('SIGCONT'), TIMEOUT_MS * 0.6);
      try {
        return await getInstance.apply(this, args);
      } finally {
        clearTimeout(resume);
        storage.send('SIGSTOP');
      }
    },
  });
  app = await buildAppService({ config, definition, storage: stopping, logger: false });
  await app.ready();
}, 90_000);

afterAll(async () => {
  await app?.close();
  storage?.send('SIGCONT');
  await storage?.kill();
  await issuer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a request needing several storage calls gets 504 within one storage timeout, not one timeout per call', async () => {
  const created = await app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${PARTY}`, headers: owner, payload: {} });
  expect(created.statusCode).toBe(201);
  const instance = created.json<Instance>();
  const form = instance.data.find((d) => d.dataType === 'model')!;

  stallAfterRead = true;
  const started = Date.now();
  const read = await app.inject({ method: 'GET', url: `/nav/child-benefit/instances/${instance.id}/data/${form.id}`, headers: owner });
  const elapsed = Date.now() - started;
  stallAfterRead = false;
  storage.send('SIGCONT');
  expect(read.statusCode).toBe(504);
  expect(read.json()).toMatchObject({ code: 'STORAGE_TIMEOUT' });
  // One deadline for the whole request: with a timeout per call, the download after the slow read would end at
  // 1.6 timeouts.
  expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  expect(elapsed).toBeLessThan(TIMEOUT_MS * 1.5);
}, 60_000);

test('a slow upload that keeps moving is not cut off by the deadline: each chunk sent to storage moves it on', async () => {
  // Created through the app, so the process is in the task the attachment type belongs to.
  const created = await app.inject({ method: 'POST', url: `/nav/child-benefit/instances?instanceOwnerPartyId=${PARTY}`, headers: owner, payload: {} });
  const instance = created.json<Instance>();
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  // 1.5 storage timeouts long, a chunk every 75 ms: slow, but never quiet for long.
  const chunks = Math.ceil((TIMEOUT_MS * 1.5) / 75);
  async function* slowPdf(): AsyncGenerator<Buffer> {
    yield Buffer.from('%PDF-1.7\n');
    for (let index = 0; index < chunks; index++) {
      await new Promise((resolve) => setTimeout(resolve, 75));
      yield Buffer.alloc(16 * 1024, 0x41);
    }
    yield Buffer.from('\n%%EOF\n'); // a PDF ends with its trailer
  }
  const started = Date.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${appUrl}/nav/child-benefit/instances/${instance.id}/data?dataType=proof`, {
      method: 'POST',
      headers: { ...owner, 'content-type': 'application/pdf' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    Readable.from(slowPdf()).pipe(req);
  });
  expect(Date.now() - started).toBeGreaterThan(TIMEOUT_MS);
  expect(status).toBe(201);
}, 60_000);

