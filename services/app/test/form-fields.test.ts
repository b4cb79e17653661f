/**
 * Altinn's `dataFields` and `presentationFields`: form fields the app copies into the instance's `dataValues` and
 * `presentationTexts` whenever the form is saved (instantiation, PUT, PATCH), with the real storage behind it. The
 * app is skd/tax-return with the two lists added to its metadata.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import type { DataElement, Instance } from '@forms/contracts';
import { FaultProxy } from '@forms/test-support';
import { buildAppService } from '../src/app';
import { loadAppServiceConfig } from '../src/config';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';

let h: AppHarness;
let folder: string;
let system: Record<string, string>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'form-fields-app-'));
  cpSync(appFolder('skd/tax-return'), folder, { recursive: true });
  const metadataFile = join(folder, 'applicationmetadata.json');
  const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
  metadata.dataFields = [{ id: 'tax', path: 'tax', dataTypeId: 'model' }];
  metadata.presentationFields = [
    { id: 'year', path: 'taxYear', dataTypeId: 'model' },
    { id: 'firstDeduction', path: 'deductions', dataTypeId: 'model' },
  ];
  writeFileSync(metadataFile, JSON.stringify(metadata));
  h = await startApp('skd/tax-return', { appDir: folder });
  system = h.storage.auth.system;
});
afterAll(async () => {
  await h.close();
  rmSync(folder, { recursive: true, force: true });
});

const stored = async (instance: Instance) => (await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system })).json<Instance>();
const formOf = (instance: Instance) => instance.data.find((d) => d.dataType === 'model') as DataElement;

test('copied at instantiation, after a PUT and after a PATCH; a field no longer in the form is removed', async () => {
  const created = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/create`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { instanceOwner: { partyId: SYSTEM_PARTY }, prefill: { taxYear: '2025', income: '100000' } },
  });
  expect(created.statusCode).toBe(201);
  const instance = created.json<Instance>();
  // The answer already carries them; the tax is the app's calculation (22 %); a list is not a text.
  expect(instance).toMatchObject({ dataValues: { tax: '22000' }, presentationTexts: { year: '2025' } });
  expect(await stored(instance)).toMatchObject({ dataValues: { tax: '22000' }, presentationTexts: { year: '2025' } });

  const put = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { income: 200_000, deductions: [{ description: 'Office', amount: 50_000 }] },
  });
  expect(put.statusCode).toBe(200);
  const afterPut = await stored(instance);
  expect(afterPut.dataValues).toEqual({ tax: '33000' });
  expect(afterPut.presentationTexts ?? {}).toEqual({});

  const patch = await h.app.inject({
    method: 'PATCH',
    url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { patch: [{ op: 'add', path: '/taxYear', value: 2026 }, { op: 'replace', path: '/income', value: 150_000 }] },
  });
  expect(patch.statusCode).toBe(200);
  expect(await stored(instance)).toMatchObject({ dataValues: { tax: '22000' }, presentationTexts: { year: '2026' } });

  // The party's list of unfinished instances shows the texts.
  const active = await h.app.inject({ url: `${h.base}/instances/${SYSTEM_PARTY}/active`, headers: system });
  expect(active.json<Array<{ id: string; presentationTexts: unknown }>>().find((item) => item.id === instance.id)?.presentationTexts).toEqual({ year: '2026' });
});

test('a save that leaves the fields as they are writes nothing more to the instance', async () => {
  const created = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/create`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { instanceOwner: { partyId: SYSTEM_PARTY }, prefill: { taxYear: 2025, income: 100_000 } },
  });
  const instance = created.json<Instance>();
  const before = await stored(instance);
  const put = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { taxYear: 2025, income: 100_000, confirmedCorrect: true },
  });
  expect(put.statusCode).toBe(200);
  const after = await stored(instance);
  // Only the form's own write: no further version for unchanged fields.
  expect(after.version).toBe(before.version + 1);
});

test('if storage cannot take the copies, the form stays saved; the next save copies them', async () => {
  // The same app, reaching storage through a proxy that resets the connection carrying the dataValues write.
  const proxy = await FaultProxy.start(h.storageUrl);
  const config = loadAppServiceConfig({
    APP_DIR: folder,
    STORAGE_URL: proxy.urlFor(h.storageUrl),
    STORAGE_TIMEOUT_MS: '3000',
    JWKS_URL: h.storage.issuer.jwksUrl,
    TOKEN_ISSUER: h.storage.issuer.issuer,
  });
  const appToken = h.storage.issuer.appToken({ app: 'skd/tax-return' });
  const storage = new StorageClient({ baseUrl: config.STORAGE_URL, timeoutMs: config.STORAGE_TIMEOUT_MS, accessToken: async () => appToken });
  const app = await buildAppService({ config, definition: await loadAppDefinition(folder), storage, logger: false });
  await app.ready();
  try {
    const created = await app.inject({
      method: 'POST',
      url: `${h.base}/instances/create`,
      headers: { ...system, 'content-type': 'application/json' },
      payload: { instanceOwner: { partyId: SYSTEM_PARTY }, prefill: { income: 100_000 } },
    });
    const instance = created.json<Instance>();
    expect(instance.dataValues).toEqual({ tax: '22000' });

    proxy.setMode({ kind: 'reset', when: (method, path) => method === 'PUT' && path.endsWith('/datavalues') });
    const save = () =>
      app.inject({
        method: 'PUT',
        url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`,
        headers: { ...system, 'content-type': 'application/json' },
        payload: { income: 300_000 },
      });
    expect((await save()).statusCode).toBe(200);
    const form = await app.inject({ url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`, headers: system });
    expect(form.json()).toMatchObject({ income: 300_000, tax: 66_000 });
    expect((await stored(instance)).dataValues).toEqual({ tax: '22000' });

    proxy.setMode({ kind: 'pass' });
    expect((await save()).statusCode).toBe(200);
    expect((await stored(instance)).dataValues).toEqual({ tax: '66000' });
  } finally {
    await app.close();
    await proxy.stop();
  }
});
