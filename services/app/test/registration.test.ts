/** The app registers itself in storage at start-up, also when several replicas start at once. */
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient } from '@forms/client';
import { Scopes, type Application } from '@forms/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerInStorage } from '../src/domain/registration';
import { API, startStorage, type StorageHarness } from '../../storage/test/support/storage-harness';
import { appFolder } from './support/app-harness';

let storage: StorageHarness;
let client: StorageClient;
let navToken: string;

beforeAll(async () => {
  storage = await startStorage();
  const address = await storage.app.listen({ host: '127.0.0.1', port: 0 });
  client = new StorageClient({ baseUrl: `${address}/storage/api/v1`, timeoutMs: 3000 });
  navToken = storage.issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
});
afterAll(() => storage.close());

test('replicas starting together all register the app, and storage holds the definition once', async () => {
  const definition = await loadAppDefinition(appFolder('nav/child-benefit'));
  const results = await Promise.all(Array.from({ length: 4 }, () => registerInStorage(definition, client, navToken)));
  expect(results.map((app) => app.id)).toEqual(Array(4).fill('nav/child-benefit'));

  const listed = await storage.app.inject({ url: `${API}/applications/nav`, headers: storage.auth.nav });
  const apps = listed.json<{ applications: Application[] }>().applications.filter((app) => app.id === 'nav/child-benefit');
  expect(apps).toHaveLength(1);
  // Form data is kept as JSON in storage, whatever the app accepts at its edge.
  expect(apps[0]?.dataTypes.find((type) => type.id === 'model')?.allowedContentTypes).toEqual(['application/json']);
  // Attachment types go to storage as the app folder declares them, read here from the file itself.
  const declared = JSON.parse(readFileSync(join(appFolder('nav/child-benefit'), 'applicationmetadata.json'), 'utf8')) as {
    title: Record<string, string>;
    dataTypes: Array<Record<string, unknown>>;
  };
  const proof = declared.dataTypes.find((type) => type.id === 'proof')!;
  expect(apps[0]?.dataTypes.find((type) => type.id === 'proof')).toMatchObject({
    allowedContentTypes: proof.allowedContentTypes,
    maxSize: proof.maxSize,
    maxCount: proof.maxCount,
    minCount: proof.minCount,
    taskId: proof.taskId,
  });
  expect(apps[0]?.title).toEqual(declared.title);
});

test('an org cannot register an app of another org', async () => {
  const definition = await loadAppDefinition(appFolder('skd/tax-return'));
  await expect(registerInStorage(definition, client, navToken)).rejects.toMatchObject({ kind: 'forbidden' });
});
