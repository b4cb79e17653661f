/**
 * AppClient's code lists and languages over HTTP against the real app service of skd/tax-return, with storage behind it.
 */
import type { Instance } from '@forms/contracts';
import { AppClient } from '../src';
import { OWNER_PARTY } from '../../../services/storage/test/support/storage-harness';
import { startApp, type AppHarness } from '../../../services/app/test/support/app-harness';

let h: AppHarness;
let client: AppClient;
let anonymous: AppClient;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  const baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const ownerToken = (h.storage.auth.owner.authorization as string).replace(/^Bearer /, '');
  client = new AppClient({ baseUrl, appId: 'skd/tax-return', token: ownerToken });
  // Public lists need no token: a token provider that must not be asked proves none is sent.
  anonymous = new AppClient({ baseUrl, appId: 'skd/tax-return', token: () => Promise.reject(new Error('no token for public calls')) });
});
afterAll(() => h.close());

test('public lists with the parameters they were made from, and the languages', async () => {
  const year = new Date().getFullYear();
  expect(await anonymous.codeList('tax-years', { language: 'en', query: { from: String(year - 2) } })).toEqual({
    options: [
      { value: year - 1, label: String(year - 1) },
      { value: year - 2, label: String(year - 2) },
    ],
    parameters: { from: String(year - 2) },
  });
  const kinds = await anonymous.codeList('deduction-kinds');
  expect(kinds.options.map((option) => option.value)).toEqual(['union-fees', 'interest', 'travel', 'other']);
  expect(kinds.parameters).toEqual({});
  expect(await anonymous.languages()).toEqual(['en', 'nb']);
  await expect(anonymous.codeList('no-such-list')).rejects.toMatchObject({ kind: 'not_found', code: 'OPTIONS_NOT_FOUND' });
  await expect(anonymous.codeList('tax-years', { query: { from: '1900' } })).rejects.toMatchObject({ kind: 'invalid', code: 'InvalidFromYear' });
});

test("an instance's list, for its owner", async () => {
  const instance: Instance = await client.createInstanceWithPrefill({
    instanceOwner: { partyId: OWNER_PARTY },
    prefill: { taxYear: '2024', income: '1000', deductions: [{ description: 'Interest', kind: 'interest', amount: 250 }] },
  });
  expect(await client.instanceCodeList(instance.id, 'deductions')).toEqual({ options: [{ value: 0, label: 'Interest (250)' }], parameters: { taxYear: '2024' } });
});
