/**
 * User-defined metadata on data elements through the app (Altinn's UserDefinedMetadataController), with the real
 * storage behind it: a PUT replaces the list, keys are checked against the data type, tags set meanwhile stay.
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
  receipt = uploaded.json<DataElement>();
});
afterAll(() => h.close());

const url = (element: DataElement) => `${h.base}/instances/${instance.id}/data/${element.id}/user-defined-metadata`;
const put = (element: DataElement, userDefinedMetadata: unknown) =>
  h.app.inject({ method: 'PUT', url: url(element), headers: { ...system, 'content-type': 'application/json' }, payload: { userDefinedMetadata } });
const read = async (element: DataElement) => (await h.app.inject({ url: url(element), headers: system })).json<{ userDefinedMetadata: unknown[] }>().userDefinedMetadata;
const stored = async (element: DataElement) =>
  (await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system })).json<Instance>().data.find((d) => d.id === element.id) as DataElement;

test('a PUT replaces the list, which GET and the element in storage then show; tags set meanwhile stay', async () => {
  expect(await read(receipt)).toEqual([]);
  const entries = [
    { key: 'category', value: 'home office' },
    { key: 'deductionIndex', value: '0' },
  ];
  const first = await put(receipt, entries);
  expect(first.statusCode).toBe(200);
  expect(first.json()).toEqual({ userDefinedMetadata: entries });
  expect(await read(receipt)).toEqual(entries);

  const tagged = await h.app.inject({ method: 'POST', url: `${h.base}/instances/${instance.id}/data/${receipt.id}/tags`, headers: { ...system, 'content-type': 'application/json' }, payload: '"kvittering"' });
  expect(tagged.statusCode).toBe(201);
  expect((await put(receipt, [{ key: 'category', value: 'union' }])).statusCode).toBe(200);
  expect(await stored(receipt)).toMatchObject({ userDefinedMetadata: [{ key: 'category', value: 'union' }], tags: ['kvittering'] });
  expect((await put(receipt, [])).json()).toEqual({ userDefinedMetadata: [] });
});

test('refused, changing nothing: a key twice, a key the data type does not allow, a malformed body; a type without a key list takes any key', async () => {
  await put(receipt, [{ key: 'category', value: 'kept' }]);
  expectProblem(await put(receipt, [{ key: 'category', value: 'a' }, { key: 'category', value: 'b' }]), 400, 'DUPLICATE_METADATA_KEY');
  const refused = expectProblem(await put(receipt, [{ key: 'category', value: 'a' }, { key: 'secret', value: 'b' }]), 400, 'METADATA_KEY_NOT_ALLOWED');
  expect(refused.detail).toContain('secret');
  expect((await put(receipt, [{ key: 'category' }])).statusCode).toBe(400);
  expect(await read(receipt)).toEqual([{ key: 'category', value: 'kept' }]);

  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  expect((await put(form, [{ key: 'anything', value: 'goes' }])).json()).toEqual({ userDefinedMetadata: [{ key: 'anything', value: 'goes' }] });
  expect((await h.app.inject({ url: url(receipt), headers: h.storage.auth.otherOwner })).statusCode).toBe(404);
});

test('an element locked when its task ended is 409', async () => {
  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  const filled = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...system, 'content-type': 'application/json' }, payload: { income: 1000 } });
  expect(filled.statusCode).toBe(200);
  expect((await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system })).statusCode).toBe(200);
  expectProblem(await put(receipt, [{ key: 'category', value: 'late' }]), 409, 'DATA_ELEMENT_LOCKED');
});
