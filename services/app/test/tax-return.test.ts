/**
 * skd/tax-return driven by an end-user system: multipart instantiation with the form data in the same
 * request, JSON form data and JSON Patch with calculation, validation failing and fixed, a confirmation task.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { Scopes } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { bearer, startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, instanceCount, PDF, PNG } from './support/fixtures';

let h: AppHarness;
let system: Record<string, string>;
let skd: Record<string, string>;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  system = h.storage.auth.system;
  skd = h.storage.auth.skd;
});
afterAll(() => h.close());

function multipart(parts: Array<{ name: string; contentType: string; body: Buffer | string; filename?: string }>) {
  const boundary = `----forms${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${part.contentType}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const formOf = (instance: Instance) => instance.data.find((d) => d.dataType === 'model') as DataElement;

describe('an accounting system files a tax return', () => {
  let instance: Instance;
  let form: DataElement;

  test('one multipart request creates the instance with its form data and a receipt', async () => {
    const body = multipart([
      { name: 'instance', contentType: 'application/json', body: JSON.stringify({ instanceOwner: { organisationNumber: '910000001' } }) },
      { name: 'model', contentType: 'application/json', body: JSON.stringify({ income: 500_000, deductions: [{ description: 'Office', amount: 600_000 }] }) },
      { name: 'receipt', contentType: 'application/pdf', body: PDF, filename: 'office.pdf' },
    ]);
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...system, 'content-type': body.contentType },
      payload: body.payload,
    });
    expect(response.statusCode).toBe(201);
    instance = response.json<Instance>();
    expect(instance.instanceOwner).toEqual({ partyId: SYSTEM_PARTY, organisationNumber: '910000001' });
    expect(instance.data.map((d) => d.dataType).sort()).toEqual(['model', 'receipt']);
    form = formOf(instance);

    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: system });
    // The form sent along was calculated like any other save: nothing taxable.
    expect(read.json()).toMatchObject({ income: 500_000, taxableIncome: 0, tax: 0 });
  });

  test('deductions above the income fail validation and block the task', async () => {
    const validate = await h.app.inject({ url: `${h.base}/instances/${instance.id}/validate`, headers: system });
    expect(validate.statusCode).toBe(200);
    expect(validate.json()).toEqual([expect.objectContaining({ severity: 1, code: 'DeductionsExceedIncome', dataElementId: form.id })]);
    const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system });
    expectProblem(next, 409, 'VALIDATION_FAILED');
  });

  test('a JSON Patch with a test operation fixes the deduction and returns the recalculated tax', async () => {
    const response = await h.app.inject({
      method: 'PATCH',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json' },
      payload: {
        patch: [
          { op: 'test', path: '/deductions/0/amount', value: 600_000 },
          { op: 'replace', path: '/deductions/0/amount', value: 100_000 },
        ],
        ignoredValidators: [],
      },
    });
    expect(response.statusCode).toBe(200);
    // Altinn's DataPatchResponse: the new model (calculated), the task's issues (none left), the instance.
    const body = response.json<{ newDataModel: unknown; validationIssues: unknown[]; instance: Instance }>();
    expect(body.newDataModel).toMatchObject({ deductions: [{ description: 'Office', amount: 100_000 }], taxableIncome: 400_000, tax: 88_000 });
    expect(body.validationIssues).toEqual([]);
    expect(body.instance.data.find((d) => d.id === form.id)?.version).toBeGreaterThan(form.version);
  });

  test('a patch whose test no longer holds is a conflict and changes nothing', async () => {
    const response = await h.app.inject({
      method: 'PATCH',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json' },
      payload: {
        patch: [
          { op: 'test', path: '/deductions/0/amount', value: 600_000 },
          { op: 'replace', path: '/income', value: 1 },
        ],
      },
    });
    expectProblem(response, 409, 'PATCH_TEST_FAILED');
    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: system });
    expect(read.json()).toMatchObject({ income: 500_000, tax: 88_000 });
  });

  test('a write with a stale ETag is refused with 412', async () => {
    const current = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: system });
    const etag = current.headers.etag as string;
    const first = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json', 'if-match': etag },
      payload: { income: 400_000, deductions: [] },
    });
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).not.toBe(etag);
    const stale = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json', 'if-match': etag },
      payload: { income: 1, deductions: [] },
    });
    expectProblem(stale, 412, 'VERSION_MISMATCH');
    const patchStale = await h.app.inject({
      method: 'PATCH',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json', 'if-match': etag },
      payload: { patch: [{ op: 'replace', path: '/income', value: 2 }] },
    });
    expectProblem(patchStale, 412, 'VERSION_MISMATCH');
    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: system });
    expect(read.json()).toMatchObject({ income: 400_000, tax: 88_000 });
  });

  test('a receipt of the wrong type is refused, and a receipt can be deleted', async () => {
    const png = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=receipt`,
      headers: { ...system, 'content-type': 'image/png' },
      payload: PNG,
    });
    expect(png.statusCode).toBe(415);
    const receipt = instance.data.find((d) => d.dataType === 'receipt') as DataElement;
    const removed = await h.app.inject({ method: 'DELETE', url: `${h.base}/instances/${instance.id}/data/${receipt.id}`, headers: system });
    expect(removed.statusCode).toBe(204);
    const status = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system });
    expect(status.json<Instance>().data.map((d) => d.dataType)).toEqual(['model']);
  });

  test('the process runs through the confirmation task to the end', async () => {
    const toConfirm = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system });
    expect(toConfirm.statusCode).toBe(200);
    expect(toConfirm.json<Instance['process']>().currentTask).toMatchObject({ elementId: 'Task_2', altinnTaskType: 'confirmation' });
    // Task_1's data is locked by storage once its task is done.
    const late = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...system, 'content-type': 'application/json' },
      payload: { income: 1 },
    });
    expect(late.statusCode).toBe(409);
    const done = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: system });
    expect(done.json<Instance['process']>().endEvent).toBe('EndEvent_1');
  });
});

describe('instantiation leaves nothing behind when it fails', () => {
  test('a data part that does not match the model: 400, and no instance in storage', async () => {
    const before = await instanceCount(h, skd, SYSTEM_PARTY);
    const body = multipart([
      { name: 'instance', contentType: 'application/json', body: '{}' },
      { name: 'receipt', contentType: 'application/pdf', body: PDF, filename: 'ok.pdf' },
      { name: 'model', contentType: 'application/json', body: JSON.stringify({ income: 'a lot' }) },
    ]);
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...system, 'content-type': body.contentType },
      payload: body.payload,
    });
    expectProblem(response, 400, 'FORM_DATA_INVALID');
    expect(await instanceCount(h, skd, SYSTEM_PARTY)).toBe(before);
  });

  test('an attachment part of a disallowed type: 415, and no instance in storage', async () => {
    const before = await instanceCount(h, skd, SYSTEM_PARTY);
    const body = multipart([
      { name: 'instance', contentType: 'application/json', body: '{}' },
      { name: 'receipt', contentType: 'image/png', body: PNG, filename: 'photo.png' },
    ]);
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...system, 'content-type': body.contentType },
      payload: body.payload,
    });
    expect(response.statusCode).toBe(415);
    expect(await instanceCount(h, skd, SYSTEM_PARTY)).toBe(before);
  });

  test('a multipart request must start with the instance part', async () => {
    const body = multipart([{ name: 'model', contentType: 'application/json', body: '{}' }]);
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...system, 'content-type': body.contentType },
      payload: body.payload,
    });
    expectProblem(response, 400, 'INSTANCE_PART_REQUIRED');
  });

  test.each([
    ['without a boundary', (contentType: string) => contentType.replace(/;.*$/, ''), (payload: Buffer) => payload],
    ['cut off in an attachment', (contentType: string) => contentType, (payload: Buffer) => payload.subarray(0, payload.length - 40)],
    ['cut off before its closing boundary', (contentType: string) => contentType, (payload: Buffer) => payload.subarray(0, payload.length - 4)],
  ])('a multipart body %s: 400 MALFORMED_MULTIPART, and no instance in storage', async (_name, contentTypeOf, cut) => {
    const before = await instanceCount(h, skd, SYSTEM_PARTY);
    const body = multipart([
      { name: 'instance', contentType: 'application/json', body: '{}' },
      { name: 'receipt', contentType: 'application/pdf', body: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 7), Buffer.from('\n%%EOF\n')]), filename: 'receipt.pdf' },
    ]);
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...system, 'content-type': contentTypeOf(body.contentType) },
      payload: cut(Buffer.from(body.payload)),
    });
    expectProblem(response, 400, 'MALFORMED_MULTIPART');
    expect(await instanceCount(h, skd, SYSTEM_PARTY)).toBe(before);
  });

  test("the app's onInstantiate rule refuses synthetic parties with 403", async () => {
    const syntheticUser = bearer(h.storage.issuer.userToken({ userId: 9, partyId: '90001', scopes: [Scopes.instancesRead, Scopes.instancesWrite] }));
    const response = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=90001`, headers: syntheticUser, payload: {} });
    expectProblem(response, 403, 'PartyNotAllowed');
    expect(await instanceCount(h, skd, '90001')).toBe(0);
  });

  test("a caller may not create instances for another party", async () => {
    const response = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=50001`, headers: system, payload: {} });
    expect(response.statusCode).toBe(403);
    expect(await instanceCount(h, skd, '50001')).toBe(0);
  });
});

describe('JSON instantiation', () => {
  test('an instance template with unknown fields is refused', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: system,
      payload: { instanceOwner: {}, appId: 'nav/other' },
    });
    expect(response.statusCode).toBe(400);
  });

  test('an instance is created with prefilled, calculated form data', async () => {
    const instance = await createInstance(h, system, SYSTEM_PARTY, { dueBefore: '2030-01-01T00:00:00.000Z' });
    expect(instance.dueBefore).toBe('2030-01-01T00:00:00.000Z');
    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${formOf(instance).id}`, headers: system });
    expect(read.json()).toEqual({ taxableIncome: 0, tax: 0 });
  });
});
