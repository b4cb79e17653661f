/**
 * The holes found by acting as an attacker with an ordinary party token, closed in the app service: stateless
 * calls for another party, a double-clicked process/next, hostile JSON, content that is not what it claims,
 * and what storage now refuses when the party goes around the app.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { OTHER_PARTY, OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { checkAppToken } from '../src/domain/app-token';
import { OrgTokenError } from '../src/domain/org-token';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF, STORAGE_API, storedInstance } from './support/fixtures';

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(256, 0)]);

let h: AppHarness;
let owner: Record<string, string>;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  owner = h.storage.auth.owner;
});
afterAll(() => h.close());

const formXml = (income: number) =>
  `<ChildBenefit><applicant><name>Kari</name><personNumber>01017012345</personNumber><monthlyIncome>${income}</monthlyIncome></applicant><children><name>Lise</name><birthYear>2022</birthYear></children></ChildBenefit>`;

describe('stateless calls only for a party the caller may act for', () => {
  test("prefill and validation for another party's id, or with an org token, are refused", async () => {
    for (const url of [`${h.base}/v1/data?dataType=model&partyId=${OTHER_PARTY}`]) {
      expectProblem(await h.app.inject({ url, headers: owner }), 403, 'PARTY_NOT_ALLOWED');
      expectProblem(await h.app.inject({ url, headers: h.storage.auth.nav }), 403, 'PARTY_NOT_ALLOWED');
    }
    const validate = await h.app.inject({ method: 'POST', url: `${h.base}/v1/data/validate?dataType=model&partyId=${OTHER_PARTY}`, headers: owner, payload: {} });
    expectProblem(validate, 403, 'PARTY_NOT_ALLOWED');
    const own = await h.app.inject({ url: `${h.base}/v1/data?dataType=model&partyId=${OWNER_PARTY}`, headers: owner });
    expect(own.statusCode).toBe(200);
  });
});

describe('a double-clicked process/next', () => {
  test('with the task it means, the second click is refused instead of completing the next task', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const put = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...owner, 'content-type': 'application/xml' },
      payload: formXml(60_000),
    });
    expect(put.statusCode).toBe(200);
    // Above 50 000 a proof is needed, and the process goes on to the confirmation task (Task_2).
    const proof = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
      headers: { ...owner, 'content-type': 'application/pdf' },
      payload: PDF,
    });
    expect(proof.statusCode).toBe(201);
    const next = () => h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next?currentTask=Task_1`, headers: owner });
    const first = await next();
    expect(first.json<Instance['process']>().currentTask?.elementId).toBe('Task_2');
    expectProblem(await next(), 409, 'TASK_MISMATCH');
    const after = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process`, headers: owner });
    expect(after.json<Instance['process']>().currentTask?.elementId).toBe('Task_2');
  });
});

describe('hostile JSON', () => {
  test('100 000-deep JSON is a 400, as form data, as a JSON Patch and as a stateless body', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const url = `${h.base}/instances/${instance.id}/data/${form.id}`;
    expectProblem(await h.app.inject({ method: 'PUT', url, headers: { ...owner, 'content-type': 'application/json' }, payload: deep }), 400, 'JSON_TOO_DEEP');
    const deepPatch = `{"patch": ${deep}}`;
    expectProblem(await h.app.inject({ method: 'PATCH', url, headers: { ...owner, 'content-type': 'application/json' }, payload: deepPatch }), 400, 'JSON_TOO_DEEP');
    const stateless = await h.app.inject({ method: 'POST', url: `${h.base}/v1/data?dataType=model`, headers: { ...owner, 'content-type': 'application/json' }, payload: deep });
    expectProblem(stateless, 400, 'JSON_TOO_DEEP');
  });

  test('JSON Patch paths through __proto__ or constructor are a 400 and change nothing', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const url = `${h.base}/instances/${instance.id}/data/${form.id}`;
    for (const path of ['/__proto__/polluted', '/constructor/prototype/polluted', '/applicant/__proto__']) {
      const patch = { patch: [{ op: 'add', path, value: 'yes' }] };
      const response = await h.app.inject({ method: 'PATCH', url, headers: { ...owner, 'content-type': 'application/json' }, payload: patch });
      expectProblem(response, 400, 'INVALID_PATCH');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('content through the app', () => {
  test('%PDF- followed by an ELF is not a PDF; downloads are attachments, never sniffed', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const url = `${h.base}/instances/${instance.id}/data?dataType=proof`;
    const upload = (payload: Buffer, extra: Record<string, string> = {}) =>
      h.app.inject({ method: 'POST', url, headers: { ...owner, 'content-type': 'application/pdf', ...extra }, payload });
    expectProblem(await upload(Buffer.concat([Buffer.from('%PDF-'), ELF])), 415, 'CONTENT_TYPE_MISMATCH');
    expectProblem(await upload(Buffer.concat([PDF, ELF])), 415, 'CONTENT_TYPE_MISMATCH');
    const stored = await upload(PDF, { 'content-disposition': "attachment; filename*=UTF-8''l%C3%B8nn%E2%80%AEfdp.exe" });
    expect(stored.statusCode).toBe(201);
    const element = stored.json<DataElement>();
    expect(element.filename).toBe('lønnfdp.exe');
    const download = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: owner });
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.headers['content-disposition']).toBe('attachment; filename="lønnfdp.exe"');
    const current = await storedInstance(h, owner, instance.id);
    expect(current?.data.filter((d) => d.dataType === 'proof')).toHaveLength(1);
  });
});

describe('going around the app', () => {
  test("the party's token replayed against storage cannot do what the app refused", async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    // The app refuses to complete the task with an empty form ...
    expectProblem(await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner }), 409, 'VALIDATION_FAILED');
    // ... and storage refuses the same party doing it itself, or writing the form the app checks.
    const storage = (method: 'PUT' | 'POST', url: string, payload: unknown) =>
      h.storage.app.inject({ method, url: `${STORAGE_API}/instances/${instance.id}${url}`, headers: { ...owner, 'content-type': 'application/json' }, payload: payload as string });
    const ended = { started: instance.process.started, ended: new Date().toISOString(), endEvent: 'EndEvent_1' };
    expectProblem(await storage('PUT', '/process', ended), 403, 'APP_REQUIRED');
    expectProblem(await storage('PUT', `/data/${form.id}`, { monthlyBenefit: 99999999, extra: true }), 403, 'DATA_TYPE_NOT_WRITABLE');
    const create = await h.storage.app.inject({
      method: 'POST',
      url: `${STORAGE_API}/instances?appId=${h.appId}`,
      headers: owner,
      payload: { instanceOwner: { partyId: OWNER_PARTY }, process: ended },
    });
    expectProblem(create, 403, 'APP_REQUIRED');
  });

  test('an app service refuses to start with a token that names another app, or none', () => {
    const other = h.storage.issuer.appToken({ app: 'nav/other-app' });
    expect(() => checkAppToken(other, h.appId, 'ORG_TOKEN')).toThrow(OrgTokenError);
    expect(() => checkAppToken(h.storage.issuer.orgToken({ org: 'nav' }), h.appId, 'ORG_TOKEN')).toThrow(/names no app/);
    expect(() => checkAppToken(h.storage.issuer.appToken({ app: h.appId }), h.appId, 'ORG_TOKEN')).not.toThrow();
  });
});
