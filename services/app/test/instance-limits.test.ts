/**
 * Storage caps how many data elements one instance holds (MAX_DATA_ELEMENTS_PER_INSTANCE); through the app a
 * party meets the same limit, with storage's code, even where the data type's own maxCount would allow more.
 */
import type { Instance } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF, storedInstance } from './support/fixtures';

let h: AppHarness;
let owner: Record<string, string>;

beforeAll(async () => {
  h = await startApp('nav/child-benefit', { storageEnv: { MAX_DATA_ELEMENTS_PER_INSTANCE: '3' } });
  owner = h.storage.auth.owner;
});
afterAll(() => h.close());

const uploadProof = (instance: Instance) =>
  h.app.inject({ method: 'POST', url: `${h.base}/instances/${instance.id}/data?dataType=proof`, headers: { ...owner, 'content-type': 'application/pdf' }, payload: PDF });

test('a proof past the instance limit is refused with 409 INSTANCE_DATA_ELEMENT_LIMIT, though proof allows 3', async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  expect(instance.data).toHaveLength(1);
  for (let i = 0; i < 2; i++) expect((await uploadProof(instance)).statusCode).toBe(201);
  expectProblem(await uploadProof(instance), 409, 'INSTANCE_DATA_ELEMENT_LIMIT');
  expect((await storedInstance(h, owner, instance.id))?.data.map((element) => element.dataType).sort()).toEqual(['model', 'proof', 'proof']);
});
