/**
 * The app API routes Altinn 3 has and this platform added for it: instantiation with prefill, a party's active
 * instances, the org's confirmation, substatus and deletion through the app, multi-element PATCH, validation
 * once the process has ended, texts, the process definition and anonymous stateless calculation.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { OTHER_PARTY, OWNER_PARTY, SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem } from './support/fixtures';

let h: AppHarness;
let owner: Record<string, string>;
let system: Record<string, string>;
let skd: Record<string, string>;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  ({ owner, system, skd } = h.storage.auth);
});
afterAll(() => h.close());

const url = (path: string) => `${h.base}${path}`;
const formOf = (instance: Instance) => instance.data.find((d) => d.dataType === 'model') as DataElement;

describe('instantiation', () => {
  test('instances/create sets the prefill fields on the auto-created form, calculated', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: url('/instances/create'),
      headers: owner,
      payload: { instanceOwner: { partyId: OWNER_PARTY }, prefill: { income: 100_000 } },
    });
    expect(response.statusCode).toBe(201);
    const instance = response.json<Instance>();
    const form = await h.app.inject({ url: url(`/instances/${instance.id}/data/${formOf(instance).id}`), headers: owner });
    expect(form.json()).toMatchObject({ income: 100_000, taxableIncome: 100_000, tax: 22_000 });
    // Altinn's clients send prefill as Dictionary<string, string>: text is typed by the model, as XML text is.
    const asText = await h.app.inject({
      method: 'POST',
      url: url('/instances/create'),
      headers: owner,
      payload: { instanceOwner: { partyId: OWNER_PARTY }, prefill: { income: '100000', confirmedCorrect: 'true' } },
    });
    expect(asText.statusCode).toBe(201);
    const typed = await h.app.inject({ url: url(`/instances/${asText.json<Instance>().id}/data/${formOf(asText.json<Instance>()).id}`), headers: owner });
    expect(typed.json()).toMatchObject({ income: 100_000, confirmedCorrect: true, tax: 22_000 });
    // The guid the app chose for storage (so a retry creates nothing twice) is time-ordered, as storage's own (ADR 0019).
    expect(instance.id.split('/')[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('prefill that does not fit the model, a malformed copy source and a path into prototypes are 400s', async () => {
    const create = (payload: unknown) => h.app.inject({ method: 'POST', url: url('/instances/create'), headers: owner, payload: payload as object });
    expectProblem(await create({ instanceOwner: { partyId: OWNER_PARTY }, prefill: { income: 'much' } }), 400, 'FORM_DATA_INVALID');
    expectProblem(await create({ instanceOwner: { partyId: OWNER_PARTY }, prefill: { '__proto__.x': 1 } }), 400, 'INVALID_PREFILL');
    expectProblem(await create({ instanceOwner: { partyId: OWNER_PARTY }, sourceInstanceId: `${OWNER_PARTY}/x` }), 400, 'VALIDATION_FAILED');
    // Copies themselves: instance-copy.test.ts.
  });

  test('a partyId in the query and another in the template is a 400; the same one is fine', async () => {
    const create = (query: string, partyId: string) =>
      h.app.inject({ method: 'POST', url: url(`/instances?instanceOwnerPartyId=${query}`), headers: owner, payload: { instanceOwner: { partyId } } });
    expectProblem(await create(OWNER_PARTY, OTHER_PARTY), 400, 'PARTY_MISMATCH');
    expect((await create(OWNER_PARTY, OWNER_PARTY)).statusCode).toBe(201);
    // Altinn's template names the app: this one is accepted, another refused.
    const named = (appId: string) =>
      h.app.inject({ method: 'POST', url: url(`/instances?instanceOwnerPartyId=${OWNER_PARTY}`), headers: owner, payload: { appId, instanceOwner: { partyId: OWNER_PARTY } } });
    expect((await named('skd/tax-return')).statusCode).toBe(201);
    expectProblem(await named('nav/child-benefit'), 400, 'APP_MISMATCH');
  });
});

describe('after instantiation', () => {
  test("active lists the party's unfinished instances only; another party's list is not the caller's", async () => {
    const open = await createInstance(h, system, SYSTEM_PARTY);
    const active = await h.app.inject({ url: url(`/instances/${SYSTEM_PARTY}/active`), headers: system });
    expect(active.statusCode).toBe(200);
    const entries = active.json<Array<{ id: string; lastChanged: string; lastChangedBy: string; dueBefore: string | null }>>();
    expect(entries.map((e) => e.id)).toContain(open.id);
    expect(entries.find((e) => e.id === open.id)).toEqual(expect.objectContaining({ lastChanged: open.lastChanged, dueBefore: null }));
    expect((await h.app.inject({ url: url(`/instances/${OWNER_PARTY}/active`), headers: system })).statusCode).toBe(403);
  });

  test('the org sets a substatus and confirms through the app; a party may do neither', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const substatus = await h.app.inject({ method: 'PUT', url: url(`/instances/${instance.id}/substatus`), headers: skd, payload: { label: 'in review' } });
    expect(substatus.statusCode).toBe(200);
    expect(substatus.json<Instance>().status.substatus).toMatchObject({ label: 'in review' });
    expect((await h.app.inject({ method: 'PUT', url: url(`/instances/${instance.id}/substatus`), headers: owner, payload: { label: 'x' } })).statusCode).toBe(403);
    const complete = await h.app.inject({ method: 'POST', url: url(`/instances/${instance.id}/complete`), headers: skd });
    expect(complete.statusCode).toBe(200);
    expect(complete.json<Instance>().completeConfirmations).toEqual([expect.objectContaining({ stakeholderId: 'skd' })]);
    expect((await h.app.inject({ method: 'POST', url: url(`/instances/${instance.id}/complete`), headers: owner })).statusCode).toBe(403);
  });

  test('DELETE through the app deletes softly; a stranger is told nothing', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    expectProblem(await h.app.inject({ method: 'DELETE', url: url(`/instances/${instance.id}`), headers: h.storage.auth.otherOwner }), 404, 'INSTANCE_NOT_FOUND');
    const deleted = await h.app.inject({ method: 'DELETE', url: url(`/instances/${instance.id}`), headers: owner });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json<Instance>().status.isSoftDeleted).toBe(true);
    // The org's hard delete: marked (storage removes it later), answered with the instance.
    const hard = await h.app.inject({ method: 'DELETE', url: url(`/instances/${instance.id}?hard=true`), headers: skd });
    expect(hard.statusCode).toBe(200);
    expect(hard.json<Instance>().status).toMatchObject({ isHardDeleted: true });

  });
});

describe('form data and validation', () => {
  test('PATCH data takes several elements and answers the new models and the issues by source', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = formOf(instance);
    const response = await h.app.inject({
      method: 'PATCH',
      url: url(`/instances/${instance.id}/data`),
      headers: { ...owner, 'content-type': 'application/json' },
      payload: { patches: [{ dataElementId: form.id, patch: [{ op: 'add', path: '/income', value: 1000 }, { op: 'add', path: '/deductions', value: [{ description: 'x', amount: 5000 }] }] }] },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ newDataModels: Array<{ dataElementId: string; data: Record<string, unknown> }>; validationIssues: Array<{ source: string; issues: Array<{ code: string; severity: number }> }>; instance: Instance }>();
    expect(body.newDataModels).toEqual([{ dataElementId: form.id, data: expect.objectContaining({ income: 1000, tax: 0 }) }]);
    expect(body.validationIssues).toEqual([{ source: 'rules', issues: [expect.objectContaining({ code: 'DeductionsExceedIncome', severity: 1 })] }]);
    // ignoredValidators leaves a source's issues out.
    const ignoring = await h.app.inject({
      method: 'PATCH',
      url: url(`/instances/${instance.id}/data/${form.id}`),
      headers: { ...owner, 'content-type': 'application/json' },
      payload: { patch: [{ op: 'replace', path: '/income', value: 2000 }], ignoredValidators: ['rules'] },
    });
    expect(ignoring.json<{ validationIssues: unknown[] }>().validationIssues).toEqual([]);
    const unknown = { patches: [{ dataElementId: '00000000-0000-4000-8000-000000000000', patch: [] }] };
    const missing = await h.app.inject({ method: 'PATCH', url: url(`/instances/${instance.id}/data`), headers: { ...owner, 'content-type': 'application/json' }, payload: unknown });
    expectProblem(missing, 404, 'DATA_ELEMENT_NOT_FOUND');
  });

  test('POST data answers 201 with the DataElement; validate is 409 once the process has ended', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = formOf(instance);
    expect((await h.app.inject({ method: 'DELETE', url: url(`/instances/${instance.id}/data/${form.id}`), headers: owner })).statusCode).toBe(204);
    const added = await h.app.inject({
      method: 'POST',
      url: url(`/instances/${instance.id}/data?dataType=model`),
      headers: { ...owner, 'content-type': 'application/json' },
      payload: { income: 10_000, deductions: [] },
    });
    expect(added.statusCode).toBe(201);
    expect(added.json<DataElement>()).toMatchObject({ dataType: 'model', contentType: 'application/json', instanceGuid: instance.id.split('/')[1] });
    const dataId = added.json<DataElement>().id;
    expect((await h.app.inject({ url: url(`/instances/${instance.id}/data/${dataId}/validate`), headers: owner })).json()).toEqual([]);
    for (let step = 0; step < 2; step++) expect((await h.app.inject({ method: 'PUT', url: url(`/instances/${instance.id}/process/next`), headers: owner })).statusCode).toBe(200);
    expectProblem(await h.app.inject({ url: url(`/instances/${instance.id}/validate`), headers: owner }), 409, 'PROCESS_ENDED');
    expectProblem(await h.app.inject({ url: url(`/instances/${instance.id}/data/${dataId}/validate`), headers: owner }), 409, 'PROCESS_ENDED');
    expectProblem(await h.app.inject({ url: url(`/instances/${instance.id}/process/next`), headers: owner }), 409, 'PROCESS_ENDED');
  });
});

describe('public metadata and anonymous calls', () => {
  test('texts by language, nb for a language the app does not have; the process definition', async () => {
    const nb = await h.app.inject({ url: url('/api/v1/texts/nb') });
    expect(nb.json()).toMatchObject({ id: 'skd-tax-return-nb', org: 'skd', language: 'nb', resources: expect.arrayContaining([{ id: 'appName', value: 'Skattemelding' }]) });
    expect((await h.app.inject({ url: url('/api/v1/texts/en') })).json()).toMatchObject({ language: 'en', resources: expect.arrayContaining([{ id: 'appName', value: 'Tax return' }]) });
    expect((await h.app.inject({ url: url('/api/v1/texts/se') })).json()).toMatchObject({ language: 'nb' });
    expectProblem(await h.app.inject({ url: url('/api/v1/texts/x1') }), 400, 'VALIDATION_FAILED');
    const process = await h.app.inject({ url: url('/api/v1/meta/process') });
    expect(process.statusCode).toBe(200);
    expect(process.json()).toMatchObject({ startEvent: { id: 'StartEvent_1' } });
  });

  test('each public answer has an ETag, and a client that sends it back gets 304 without a body', async () => {
    for (const path of ['/api/v1/applicationmetadata', '/api/jsonschema/model', '/api/v1/meta/process', '/api/v1/texts/nb', '/api/v1/applicationlanguages', '/api/options/deduction-kinds', '/api/options/tax-years']) {
      const first = await h.app.inject({ url: url(path) });
      const tag = first.headers.etag as string;
      expect({ path, status: first.statusCode, tag }).toEqual({ path, status: 200, tag: expect.stringMatching(/^"[^"]+"$/) });
      const again = await h.app.inject({ url: url(path), headers: { 'if-none-match': tag } });
      expect({ path, status: again.statusCode, body: again.body }).toEqual({ path, status: 304, body: '' });
    }
    // Another language is another document, with its own tag; an old tag gets the whole answer.
    const nb = (await h.app.inject({ url: url('/api/v1/texts/nb') })).headers.etag as string;
    const en = await h.app.inject({ url: url('/api/v1/texts/en'), headers: { 'if-none-match': nb } });
    expect(en.statusCode).toBe(200);
    expect(en.headers.etag).not.toBe(nb);
  });

  test('a data type with allowAnonymousOnStateless calculates without a token', async () => {
    const calculated = await h.app.inject({ method: 'POST', url: url('/v1/data/anonymous?dataType=model'), payload: { income: 100_000, deductions: [] } });
    expect(calculated.statusCode).toBe(200);
    expect(calculated.json()).toMatchObject({ taxableIncome: 100_000, tax: 22_000 });
    expect((await h.app.inject({ url: url('/v1/data/anonymous?dataType=model') })).json()).toMatchObject({ tax: 0 });
    expect((await h.app.inject({ method: 'POST', url: url('/v1/data?dataType=model'), payload: {} })).statusCode).toBe(401);
  });

  test('the stateless API takes and gives XML as well as JSON', async () => {
    const xml = await h.app.inject({
      method: 'POST',
      url: url('/v1/data/anonymous?dataType=model'),
      headers: { 'content-type': 'application/xml', accept: 'application/xml' },
      payload: '<TaxReturn><income>200000</income></TaxReturn>',
    });
    expect(xml.statusCode).toBe(200);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    expect(xml.body).toContain('<tax>44000</tax>');
    const json = await h.app.inject({ url: url('/v1/data?dataType=model'), headers: owner });
    expect(json.json()).toMatchObject({ tax: 0 });
    const doctype = await h.app.inject({
      method: 'POST',
      url: url('/v1/data/anonymous?dataType=model'),
      headers: { 'content-type': 'application/xml' },
      payload: '<!DOCTYPE x [<!ENTITY a "b">]><TaxReturn><income>1</income></TaxReturn>',
    });
    expectProblem(doctype, 400, 'XML_DTD_FORBIDDEN');
  });
});
