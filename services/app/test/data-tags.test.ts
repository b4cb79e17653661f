/**
 * Tags on data elements through the app (Altinn's DataTagsController: GET, POST a JSON string, DELETE by name), with
 * the real storage behind it: idempotent, safe against concurrent changes, refused on a locked element.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF } from './support/fixtures';

let h: AppHarness;
let system: Record<string, string>;
let instance: Instance;
let receipt: DataElement;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  system = h.storage.auth.system;
  instance = await createInstance(h, system, SYSTEM_PARTY);
  const uploaded = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/${instance.id}/data?dataType=receipt`,
    headers: { ...system, 'content-type': 'application/pdf' },
    payload: PDF,
  });
  expect(uploaded.statusCode).toBe(201);
  receipt = uploaded.json<DataElement>();
});
afterAll(() => h.close());

const tagsUrl = (element: DataElement, tag?: string) => `${h.base}/instances/${instance.id}/data/${element.id}/tags${tag === undefined ? '' : `/${encodeURIComponent(tag)}`}`;
const add = (tag: unknown, headers = system, element = receipt) =>
  h.app.inject({ method: 'POST', url: tagsUrl(element), headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(tag) });
const list = async () => (await h.app.inject({ url: tagsUrl(receipt), headers: system })).json<{ tags: string[] }>().tags;

test('a tag is added once (201 with the tags), read back, and removed (204), each of them idempotent', async () => {
  expect(await list()).toEqual([]);
  const added = await add('Kvittering');
  expect(added.statusCode).toBe(201);
  expect(added.json()).toEqual({ tags: ['Kvittering'] });
  expect((await add('Kvittering')).json()).toEqual({ tags: ['Kvittering'] });
  expect((await add('lønn_og-trekk')).json()).toEqual({ tags: ['Kvittering', 'lønn_og-trekk'] });
  expect(await list()).toEqual(['Kvittering', 'lønn_og-trekk']);

  for (let time = 0; time < 2; time++) expect((await h.app.inject({ method: 'DELETE', url: tagsUrl(receipt, 'lønn_og-trekk'), headers: system })).statusCode).toBe(204);
  expect(await list()).toEqual(['Kvittering']);
  // Storage's own record of the element carries them.
  const stored = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system });
  expect(stored.json<Instance>().data.find((d) => d.id === receipt.id)?.tags).toEqual(['Kvittering']);
});

test('tags added at the same moment all land: a change made meanwhile is never overwritten', async () => {
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  const answers = await Promise.all(names.map((name) => add(name)));
  expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 201, 201]);
  expect((await list()).sort()).toEqual(['Kvittering', ...names].sort());
});

test('refused: a tag that is not letters, another party, an unknown element, and an element locked when its task ended', async () => {
  expectProblem(await add('two words'), 400, 'INVALID_TAG');
  expectProblem(await add('1099'), 400, 'INVALID_TAG');
  expect((await add(42)).statusCode).toBe(400);
  expectProblem(await add('x', h.storage.auth.owner), 404, 'INSTANCE_NOT_FOUND');
  expectProblem(await add('x', system, { ...receipt, id: '0193a1b2-0000-7000-8000-000000000000' }), 404, 'DATA_ELEMENT_NOT_FOUND');
  expect((await h.app.inject({ url: tagsUrl(receipt), headers: h.storage.auth.otherOwner })).statusCode).toBe(404);

  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  const put = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...system, 'content-type': 'application/json' }, payload: { income: 1000 } });
  expect(put.statusCode).toBe(200);
  expect((await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system })).statusCode).toBe(200);
  expectProblem(await add('late'), 409, 'DATA_ELEMENT_LOCKED');
  expect(await list()).not.toContain('late');
});
