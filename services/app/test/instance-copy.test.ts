/**
 * Starting an instance as a copy of an archived one (Altinn's `sourceInstanceId` on `POST instances/create`):
 * skd/tax-return copies last year's return without the yearly figures, and its receipts. Real storage behind the
 * app, on both adapter sets; the copy is one creation call, so a refusal or a failure half-way leaves no instance
 * behind.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataElement, Instance } from '@forms/contracts';
import { OWNER_PARTY, SYSTEM_PARTY, type AdapterSet } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, instanceCount, PDF } from './support/fixtures';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A receipt of 1.5 MB (the type allows 2): streamed from storage and back while the copy is created. */
const RECEIPT = Buffer.concat([PDF.subarray(0, PDF.length - 6), Buffer.alloc(1536 * 1024, 0x20), Buffer.from('%%EOF\n')]);

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('copying an instance, storage on %s', (adapters) => {
  let h: AppHarness;
  let system: Record<string, string>;
  beforeAll(async () => {
    h = await startApp('skd/tax-return', { adapters });
    system = h.storage.auth.system;
  });
  afterAll(() => h.close());

  const create = (headers: Record<string, string>, body: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: `${h.base}/instances/create`, headers: { ...headers, 'content-type': 'application/json' }, payload: body });
  const formOf = (instance: Instance) => instance.data.find((d) => d.dataType === 'model') as DataElement;
  const read = async (instance: Instance, element: DataElement) => {
    const response = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: system });
    expect(response.statusCode).toBe(200);
    return response;
  };

  /** Last year's return of a party, filled in, with a receipt, and run to the end of its process (archived). */
  async function archivedReturn(headers = system, partyId = SYSTEM_PARTY): Promise<Instance> {
    const instance = await createInstance(h, headers, partyId);
    const form = formOf(instance);
    const put = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: { taxYear: 2025, income: 500_000, deductions: [{ description: 'Home office', amount: 20_000 }, { description: 'Union dues', amount: 4_000 }], confirmedCorrect: true },
    });
    expect(put.statusCode).toBe(200);
    const receipt = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=receipt`,
      headers: { ...headers, 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="office-lease.pdf"' },
      payload: RECEIPT,
    });
    expect(receipt.statusCode).toBe(201);
    for (let step = 0; step < 2; step++) {
      expect((await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers })).statusCode).toBe(200);
    }
    const archived = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers });
    expect(archived.json<Instance>().status.isArchived).toBe(true);
    return archived.json<Instance>();
  }

  test("a copy of last year's return starts in the first task with the deductions but none of the yearly figures, and the receipt byte for byte", async () => {
    const source = await archivedReturn();
    const response = await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: source.id, prefill: { taxYear: 2026 } });
    expect(response.statusCode).toBe(201);
    const copy = response.json<Instance>();
    expect(copy.id).not.toBe(source.id);
    expect(copy.process.currentTask?.elementId).toBe('Task_1');
    expect(copy.status.isArchived).toBe(false);
    expect(copy.data.map((d) => d.dataType).sort()).toEqual(['model', 'receipt']);

    // The excluded fields (taxYear, income, each deduction's amount, confirmedCorrect) are left out, the request's
    // prefill is set, and the app's calculation ran on the result.
    expect((await read(copy, formOf(copy))).json()).toEqual({
      taxYear: 2026,
      deductions: [{ description: 'Home office' }, { description: 'Union dues' }],
      taxableIncome: 0,
      tax: 0,
    });
    const receipt = copy.data.find((d) => d.dataType === 'receipt') as DataElement;
    expect(receipt).toMatchObject({ filename: 'office-lease.pdf', contentType: 'application/pdf', size: RECEIPT.length });
    expect(sha256((await read(copy, receipt)).rawPayload)).toBe(sha256(RECEIPT));

    // The source is as it was.
    const after = await h.app.inject({ url: `${h.base}/instances/${source.id}`, headers: system });
    expect(after.json<Instance>()).toMatchObject({ version: source.version, status: { isArchived: true } });
  });

  test('refused before anything is created: an instance still in progress, one of another owner, one that is not there, a malformed id', async () => {
    const before = await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY);
    const inProgress = await createInstance(h, system, SYSTEM_PARTY);
    const counted = before + 1;

    expectProblem(await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: inProgress.id }), 400, 'COPY_SOURCE_NOT_ARCHIVED');
    // Into another party's name: refused on the id alone, without a look at the source.
    expectProblem(await create(system, { instanceOwner: { partyId: OWNER_PARTY }, sourceInstanceId: inProgress.id }), 400, 'COPY_OTHER_OWNER');
    expectProblem(await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: `${OWNER_PARTY}/${inProgress.id.split('/')[1]}` }), 400, 'COPY_OTHER_OWNER');
    expectProblem(await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: `${SYSTEM_PARTY}/0193a1b2-0000-7000-8000-000000000000` }), 404, 'INSTANCE_NOT_FOUND');
    // Another party's archived instance, named as if it were the caller's own: not found, never confirmed.
    const othersArchived = `${SYSTEM_PARTY}/${(await archivedReturn(h.storage.auth.owner, OWNER_PARTY)).id.split('/')[1]}`;
    expectProblem(await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: othersArchived }), 404, 'INSTANCE_NOT_FOUND');
    expect((await create(system, { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: 'not-an-instance' })).statusCode).toBe(400);

    expect(await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY)).toBe(counted);
  });

  // The blob files of the embedded store are at hand to damage.
  if (adapters === 'embedded') test('a receipt whose stored bytes were damaged fails the copy with nothing left behind (503); the retry leaves that receipt out', async () => {
    const source = await archivedReturn();
    const receipt = source.data.find((d) => d.dataType === 'receipt') as DataElement;
    const file = join(h.storage.config.DATA_DIR, 'blobs', ...receipt.blobStoragePath.split('/'));
    const stored = await readFile(file);
    stored.writeUInt8(stored.readUInt8(RECEIPT.length - 100) ^ 0xff, RECEIPT.length - 100);
    await writeFile(file, stored);
    const before = await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY);

    const copying = { instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: source.id };
    expectProblem(await create(system, copying), 503, 'COPY_SOURCE_UNREADABLE');
    expect(await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY)).toBe(before);

    // Storage marked the receipt damaged as it cut the download off: the next copy has the form and leaves it out.
    let marked: DataElement | undefined;
    for (let attempt = 0; attempt < 50 && !marked?.damaged; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const current = await h.app.inject({ url: `${h.base}/instances/${source.id}`, headers: system });
      marked = current.json<Instance>().data.find((d) => d.id === receipt.id);
    }
    expect(marked?.damaged).toBeDefined();
    const retried = await create(system, copying);
    expect(retried.statusCode).toBe(201);
    expect(retried.json<Instance>().data.map((d) => d.dataType)).toEqual(['model']);
  });

  test('an app that does not enable copying refuses it', async () => {
    const childBenefit = await startApp('nav/child-benefit', { storage: h.storage });
    try {
      const owner = h.storage.auth.owner;
      const instance = await createInstance(childBenefit, owner, OWNER_PARTY);
      const response = await childBenefit.app.inject({
        method: 'POST',
        url: `${childBenefit.base}/instances/create`,
        headers: { ...owner, 'content-type': 'application/json' },
        payload: { instanceOwner: { partyId: OWNER_PARTY }, sourceInstanceId: instance.id },
      });
      expectProblem(response, 400, 'COPY_NOT_ENABLED');
    } finally {
      await childBenefit.close();
    }
  });
});
