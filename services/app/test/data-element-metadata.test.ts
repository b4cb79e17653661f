/**
 * Metadata of data elements through the app, with the real storage behind it: tags (Altinn's DataTagsController: GET,
 * POST a JSON string, DELETE by name; idempotent, safe against concurrent changes) and user-defined metadata (Altinn's
 * UserDefinedMetadataController: a PUT replaces the list, keys checked against the data type). Both are refused on an
 * element locked when its task ended, and neither overwrites the other.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF } from './support/fixtures';

let h: AppHarness;
let system: Record<string, string>;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  system = h.storage.auth.system;
});
afterAll(() => h.close());

/** A tax return of its own for each group of tests (each ends by locking it), with a receipt. */
async function instanceWithReceipt(): Promise<{ instance: Instance; receipt: DataElement }> {
  const instance = await createInstance(h, system, SYSTEM_PARTY);
  const uploaded = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/${instance.id}/data?dataType=receipt`,
    headers: { ...system, 'content-type': 'application/pdf' },
    payload: PDF,
  });
  expect(uploaded.statusCode).toBe(201);
  return { instance, receipt: uploaded.json<DataElement>() };
}

/** Fills in the form and completes the data task: its elements are locked from then on. */
async function lockTask(instance: Instance): Promise<void> {
  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  const put = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...system, 'content-type': 'application/json' }, payload: { income: 1000 } });
  expect(put.statusCode).toBe(200);
  expect((await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system })).statusCode).toBe(200);
}

describe('tags', () => {
  let instance: Instance;
  let receipt: DataElement;
  beforeAll(async () => {
    ({ instance, receipt } = await instanceWithReceipt());
  });

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

    await lockTask(instance);
    expectProblem(await add('late'), 409, 'DATA_ELEMENT_LOCKED');
    expect(await list()).not.toContain('late');
  });
});

describe('user-defined metadata', () => {
  let instance: Instance;
  let receipt: DataElement;
  beforeAll(async () => {
    ({ instance, receipt } = await instanceWithReceipt());
  });

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
    // Nor by calling storage directly with the party's token: the rule is storage's, where every write of it passes.
    const direct = await h.storage.app.inject({
      method: 'PUT',
      url: `/storage/api/v1/instances/${instance.id}/dataelements/${receipt.id}`,
      headers: system,
      payload: { userDefinedMetadata: [{ key: 'secret', value: 'b' }] },
    });
    expect(direct.json()).toMatchObject({ status: 400, code: 'METADATA_KEY_NOT_ALLOWED' });
    expect(await read(receipt)).toEqual([{ key: 'category', value: 'kept' }]);

    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    expect((await put(form, [{ key: 'anything', value: 'goes' }])).json()).toEqual({ userDefinedMetadata: [{ key: 'anything', value: 'goes' }] });
    expect((await h.app.inject({ url: url(receipt), headers: h.storage.auth.otherOwner })).statusCode).toBe(404);
  });

  test('an element locked when its task ended is 409', async () => {
    await lockTask(instance);
    expectProblem(await put(receipt, [{ key: 'category', value: 'late' }]), 409, 'DATA_ELEMENT_LOCKED');
  });
});
