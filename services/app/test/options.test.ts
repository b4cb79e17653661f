/**
 * Code lists (Altinn's OptionsController) and the app's languages, on skd/tax-return with the real storage behind
 * it: a file list, a list the rules make from query parameters, and a list drawn from an instance that only its
 * readers see.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';

const YEAR = new Date().getFullYear();
let h: AppHarness;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
});
afterAll(() => h.close());

const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ url: `${h.base}${url}`, headers });

describe('public code lists', () => {
  it("answers a file's list without a token, its labels the text keys they are", async () => {
    const response = await get('/api/options/deduction-kinds');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      { value: 'union-fees', label: 'deductionKind.unionFees' },
      { value: 'interest', label: 'deductionKind.interest' },
      { value: 'travel', label: 'deductionKind.travel', helpText: 'deductionKind.travel.help' },
      { value: 'other', label: 'deductionKind.other' },
    ]);
    expect(response.headers['altinn-downstreamparameters']).toBeUndefined();
  });

  it("answers the rules' list made from the query, with its parameters in Altinn's header", async () => {
    const response = await get(`/api/options/tax-years?language=en&from=${YEAR - 3}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([1, 2, 3].map((back) => ({ value: YEAR - back, label: String(YEAR - back) })));
    expect(response.headers['altinn-downstreamparameters']).toBe(`from=${YEAR - 3}`);
  });

  it("refuses what the rules refuse (400 with the rule's code), unknown lists (404) and malformed requests (400)", async () => {
    expect((await get('/api/options/tax-years?from=1999')).json()).toMatchObject({ status: 400, code: 'InvalidFromYear' });
    expect((await get('/api/options/no-such-list')).json()).toMatchObject({ status: 404, code: 'OPTIONS_NOT_FOUND' });
    // The instance list is not public.
    expect((await get('/api/options/deductions')).statusCode).toBe(404);
    expect((await get('/api/options/..%2Fapplicationmetadata')).statusCode).toBe(400);
    expect((await get('/api/options/tax-years?language=not-a-language')).statusCode).toBe(400);
    expect((await get('/api/options/tax-years?from=2020&from=2021')).statusCode).toBe(400);
    const tooMany = Array.from({ length: 21 }, (_, index) => `p${index}=1`).join('&');
    expect((await get(`/api/options/tax-years?${tooMany}`)).statusCode).toBe(400);
  });

  it('lists the languages the app has texts in', async () => {
    const response = await get('/api/v1/applicationlanguages');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([{ language: 'en' }, { language: 'nb' }]);
  });
});

describe('code lists drawn from an instance', () => {
  let instance: Instance;
  beforeAll(async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/create`,
      headers: { ...h.storage.auth.owner, 'content-type': 'application/json' },
      payload: {
        instanceOwner: { partyId: OWNER_PARTY },
        prefill: { taxYear: 2025, income: 500000, deductions: [{ description: 'Union fee', kind: 'union-fees', amount: 3900 }] },
      },
    });
    expect(created.statusCode).toBe(201);
    instance = created.json<Instance>();
  });

  it("answers the instance's own list to its owner, from its stored form", async () => {
    const response = await get(`/instances/${instance.id}/options/deductions?language=nb`, h.storage.auth.owner);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([{ value: 0, label: 'Union fee (3900)' }]);
    expect(response.headers['altinn-downstreamparameters']).toBe('taxYear=2025');
  });

  it('is not found for another party, without a token it is refused, and public lists are not served here', async () => {
    expect((await get(`/instances/${instance.id}/options/deductions`, h.storage.auth.otherOwner)).json()).toMatchObject({ status: 404, code: 'INSTANCE_NOT_FOUND' });
    expect((await get(`/instances/${instance.id}/options/deductions`)).statusCode).toBe(401);
    expect((await get(`/instances/${instance.id}/options/deduction-kinds`, h.storage.auth.owner)).json()).toMatchObject({ status: 404, code: 'OPTIONS_NOT_FOUND' });
  });
});

describe('a hook that answers no code list', () => {
  let broken: AppHarness;
  let folder: string;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'options-app-'));
    cpSync(appFolder('skd/tax-return'), folder, { recursive: true });
    writeFileSync(
      join(folder, 'rules.js'),
      `module.exports = { default: { options: (id) => (id === 'broken' ? [{ value: 1 }] : undefined) } };`,
    );
    rmSync(join(folder, 'rules.ts'));
    broken = await startApp('skd/tax-return', { appDir: folder, storage: h.storage });
  });
  afterAll(async () => {
    await broken.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("is the app's fault (500, the list not shown), while the app's files still answer", async () => {
    const response = await broken.app.inject({ url: `${broken.base}/api/options/broken` });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('"value"');
    expect((await broken.app.inject({ url: `${broken.base}/api/options/deduction-kinds` })).statusCode).toBe(200);
  });
});
