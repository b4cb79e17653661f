/**
 * AppClient over HTTP against the real app service of nav/child-benefit, in front of a real storage service.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DomainError, type DataElement, type Instance } from '@forms/contracts';
import { AppClient, ValidationIssueSeverity } from '../src';
import { OWNER_PARTY, OTHER_PARTY } from '../../../services/storage/test/support/storage-harness';
import { startApp, type AppHarness } from '../../../services/app/test/support/app-harness';
import { PDF } from '../../../services/app/test/support/fixtures';

let h: AppHarness;
let appUrl: string;
let client: AppClient;
let ownerToken: string;

const year = new Date().getFullYear();
const formXml = (income: number) => `<?xml version="1.0" encoding="UTF-8"?>
<ChildBenefit>
  <applicant><name>Kari Nordmann</name><personNumber>01017012345</personNumber><monthlyIncome>${income}</monthlyIncome></applicant>
  <children><name>Per</name><birthYear>${year - 30}</birthYear></children>
  <children><name>Lise</name><birthYear>${year - 4}</birthYear></children>
</ChildBenefit>`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

/** A PDF of `size` bytes (the content check reads its head and its `%%EOF` trailer), streamed in 64 KB chunks. */
function pdfStream(size: number): { stream: Readable; hash: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  const trailer = Buffer.from('\n%%EOF\n');
  for (let offset = 0; offset < size - trailer.length; offset += 65_536) {
    const length = Math.min(65_536, size - trailer.length - offset);
    const chunk = offset === 0 ? Buffer.concat([PDF, Buffer.alloc(length - PDF.length, 0x41)]) : Buffer.alloc(length, offset % 251);
    hash.update(chunk);
    chunks.push(chunk);
  }
  hash.update(trailer);
  chunks.push(trailer);
  return { stream: Readable.from(chunks), hash: hash.digest('hex') };
}

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  appUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  ownerToken = (h.storage.auth.owner.authorization as string).replace(/^Bearer /, '');
  client = new AppClient({ baseUrl: appUrl, appId: 'nav/child-benefit', token: ownerToken, timeoutMs: 5000 });
});
afterAll(() => h.close());

describe('a person fills in an application through the client', () => {
  let instance: Instance;
  let form: DataElement;
  let formVersion: number;

  test('createInstance starts the process with prefilled form data; getInstance answers the instance itself', async () => {
    instance = await client.createInstance();
    expect(instance).toMatchObject({ appId: 'nav/child-benefit', instanceOwner: { partyId: OWNER_PARTY } });
    expect(instance.process.currentTask).toMatchObject({ elementId: 'Task_1' });
    form = instance.data.find((d) => d.dataType === 'model') as DataElement;

    const read1 = await client.getInstance(instance.id);
    expect(read1).toMatchObject({ id: instance.id, version: instance.version });
    const issues = await client.validate(instance.id);
    expect(issues.filter((i) => i.severity === ValidationIssueSeverity.Error)).toHaveLength(2);
    expect(issues.filter((i) => i.severity === ValidationIssueSeverity.Warning)).toHaveLength(1);

    const read = await client.getFormData(instance.id, form.id);
    expect(read.value).toEqual({ applicant: { name: 'Ola Nordmann' }, children: [], numberOfChildren: 0, monthlyBenefit: 0 });
    expect(read.version).toBe(form.version);
  });

  test('putFormData sends XML and answers the CalculationResult: the data element and the changed fields', async () => {
    const result = await client.putFormData(instance.id, form.id, formXml(60_000), { expectedVersion: form.version });
    expect(result.changedFields).toEqual({ numberOfChildren: 2, monthlyBenefit: 1766 });
    expect(result).toMatchObject({ id: form.id, dataType: 'model' });
    expect(result.version).toBeGreaterThan(form.version);
    formVersion = result.version;
    expect((await client.getFormData(instance.id, form.id)).value).toMatchObject({ applicant: { monthlyIncome: 60_000 }, monthlyBenefit: 1766 });

    const xml = await client.getFormDataXml(instance.id, form.id);
    expect(xml.value).toContain('<monthlyBenefit>1766</monthlyBenefit>');
    expect(xml.version).toBe(formVersion);
  });

  test('a stale expectedVersion is refused with precondition_failed, for PUT and PATCH', async () => {
    const stalePut = await failure(client.putFormData(instance.id, form.id, { applicant: { name: 'X', personNumber: '01017012345' } }, { expectedVersion: form.version }));
    expect(stalePut).toMatchObject({ kind: 'precondition_failed', code: 'VERSION_MISMATCH' });
    const stalePatch = await failure(client.patchFormData(instance.id, form.id, [{ op: 'replace', path: '/applicant/monthlyIncome', value: 1 }], { expectedVersion: form.version }));
    expect(stalePatch).toMatchObject({ kind: 'precondition_failed', code: 'VERSION_MISMATCH' });
  });

  test('patchFormData applies JSON Patch with If-Match; a failed test operation is a conflict', async () => {
    const result = await client.patchFormData(
      instance.id,
      form.id,
      [
        { op: 'test', path: '/applicant/monthlyIncome', value: 60_000 },
        { op: 'add', path: '/children/-', value: { name: 'Ola', birthYear: year - 2 } },
      ],
      { expectedVersion: formVersion },
    );
    expect(result.newDataModel).toMatchObject({ numberOfChildren: 3, monthlyBenefit: 2 * 1766 });
    expect(result.instance.id).toBe(instance.id);
    expect(result.validationIssues.flatMap((pair) => pair.issues.map((i) => i.code))).toEqual(['ProofRequired']);
    const failed = await failure(client.patchFormData(instance.id, form.id, [{ op: 'test', path: '/applicant/monthlyIncome', value: 1 }]));
    expect(failed).toMatchObject({ kind: 'conflict', code: 'PATCH_TEST_FAILED' });
  });

  test('nextProcess is refused while a rule fails, with the validation issues in the error', async () => {
    const refused = await failure(client.nextProcess(instance.id));
    expect(refused).toMatchObject({ kind: 'conflict', code: 'VALIDATION_FAILED' });
    expect(refused.extensions?.validationIssues).toEqual([expect.objectContaining({ code: 'ProofRequired', dataElementId: form.id })]);
    expect((await client.validate(instance.id)).map((issue) => issue.code)).toEqual(['ProofRequired']);
  });

  test('uploadAttachment streams a 3 MB proof and downloadData streams it back unchanged', async () => {
    const size = 3 * 1024 * 1024;
    const { stream, hash } = pdfStream(size);
    const element = await client.uploadAttachment(instance.id, 'proof', stream, { contentType: 'application/pdf', filename: 'lønnsslipp.pdf', contentLength: size });
    expect(element).toMatchObject({ dataType: 'proof', size, filename: 'lønnsslipp.pdf', contentHash: hash });

    const download = await client.downloadData(instance.id, element.id);
    expect(download).toMatchObject({ contentType: 'application/pdf', size, filename: 'lønnsslipp.pdf' });
    expect(sha256(await readAll(download.body))).toBe(hash);
    expect(await client.validate(instance.id)).toEqual([]);
    // Scanning is off in this storage: the file is as the element says, and the form is not listed.
    const scans = await client.fileScanResult(instance.id);
    expect(scans.data.map((scan) => scan.id)).not.toContain(instance.data.find((d) => d.dataType === 'model')?.id);
    expect(scans).toMatchObject({ id: instance.id, fileScanResult: element.fileScanResult ?? 'NotApplicable' });
  });

  test('addDataTag, dataTags and removeDataTag keep the tags of an element; setUserDefinedMetadata its key/value list', async () => {
    const proof = instance.data.find((d) => d.dataType === 'proof') ?? (await client.uploadAttachment(instance.id, 'proof', Readable.from([PDF]), { contentType: 'application/pdf' }));
    expect(await client.addDataTag(instance.id, proof.id, 'lønnsslipp')).toEqual(['lønnsslipp']);
    expect(await client.dataTags(instance.id, proof.id)).toEqual(['lønnsslipp']);
    await client.removeDataTag(instance.id, proof.id, 'lønnsslipp');
    expect(await client.dataTags(instance.id, proof.id)).toEqual([]);
    expect(await failure(client.addDataTag(instance.id, proof.id, 'not a tag'))).toMatchObject({ kind: 'invalid', code: 'INVALID_TAG' });
    const entries = [{ key: 'employer', value: 'NAV' }];
    expect(await client.setUserDefinedMetadata(instance.id, proof.id, entries)).toEqual(entries);
    expect(await client.userDefinedMetadata(instance.id, proof.id)).toEqual(entries);
  });

  test('a refused attachment is a DomainError with the app’s code, and deleteData removes an element', async () => {
    const wrong = await failure(client.uploadAttachment(instance.id, 'proof', Buffer.from('MZ not a pdf'), { contentType: 'application/pdf', filename: 'x.pdf' }));
    expect(wrong).toMatchObject({ kind: 'unsupported_media_type', code: 'CONTENT_TYPE_MISMATCH' });
    const extra = await client.uploadAttachment(instance.id, 'proof', PDF, { contentType: 'application/pdf', filename: 'extra.pdf' });
    await client.deleteData(instance.id, extra.id);
    expect((await client.getInstance(instance.id)).data.map((d) => d.id)).not.toContain(extra.id);
  });

  test('nextProcess moves through the confirmation task to the end; getProcess and processHistory follow', async () => {
    const toConfirm = await client.nextProcess(instance.id, { currentTask: 'Task_1' });
    expect(toConfirm.currentTask).toMatchObject({ elementId: 'Task_2' });
    // The same call again (a double click) is refused instead of completing Task_2.
    expect(await failure(client.nextProcess(instance.id, { currentTask: 'Task_1' }))).toMatchObject({ kind: 'conflict', code: 'TASK_MISMATCH' });
    const process = await client.getProcess(instance.id);
    expect(process.value.currentTask).toMatchObject({ elementId: 'Task_2' });
    const ended = await client.nextProcess(instance.id, { expectedVersion: process.version });
    expect(ended.endEvent).toBe('EndEvent_1');
    expect((await client.processHistory(instance.id)).map((e) => e.eventType)).toEqual([
      'process_StartEvent',
      'process_StartTask',
      'process_EndTask',
      'process_StartTask',
      'process_EndTask',
      'process_EndEvent',
    ]);
    expect(await failure(client.nextProcess(instance.id))).toMatchObject({ kind: 'conflict', code: 'PROCESS_ENDED' });
    expect(await failure(client.completeProcess(instance.id))).toMatchObject({ kind: 'conflict', code: 'PROCESS_ENDED' });
  });

  test('copyInstance asks for a copy of the archived instance for its owner (this app does not enable copying)', async () => {
    // skd/tax-return, which does, is copied end to end in services/app/test/instance-copy.test.ts.
    expect(await failure(client.copyInstance(instance.id, { 'applicant.name': 'Kari' }))).toMatchObject({ kind: 'invalid', code: 'COPY_NOT_ENABLED' });
  });
});

describe('multipart instantiation', () => {
  test('the template, JSON form data and a streamed attachment go in one request', async () => {
    const formData = { applicant: { name: 'Kari', personNumber: '01017012345', monthlyIncome: 70_000 }, children: [{ name: 'Lise', birthYear: year - 4 }] };
    const { stream, hash } = pdfStream(200_000);
    const instance = await client.createInstance(
      { dataValues: { reference: 'A-17' } },
      {
        partyId: OWNER_PARTY,
        data: [
          { dataType: 'model', contentType: 'application/json', body: JSON.stringify(formData) },
          { dataType: 'proof', contentType: 'application/pdf', filename: 'proof "2024".pdf', body: stream },
        ],
      },
    );
    expect(instance.dataValues).toEqual({ reference: 'A-17' });
    expect(instance.data.map((d) => d.dataType).sort()).toEqual(['model', 'proof']);
    const proof = instance.data.find((d) => d.dataType === 'proof') as DataElement;
    expect(proof.contentHash).toBe(hash);
    const model = instance.data.find((d) => d.dataType === 'model') as DataElement;
    expect((await client.getFormData(instance.id, model.id)).value).toMatchObject({ monthlyBenefit: 1766, numberOfChildren: 1 });
    expect(await client.validate(instance.id)).toEqual([]);
  });

  test('a form part that does not match the model fails the whole request', async () => {
    const failed = await failure(
      client.createInstance({}, { data: [{ dataType: 'model', contentType: 'application/json', body: JSON.stringify({ applicant: 'nobody' }) }] }),
    );
    expect(failed).toMatchObject({ kind: 'invalid', code: 'FORM_DATA_INVALID' });
  });
});

describe('stateless calculation and validation', () => {
  test('calculate, validateData and prefill run the rules without an instance', async () => {
    const data = { applicant: { name: 'Kari', personNumber: '01017012345' }, children: [{ name: 'Lise', birthYear: year - 4 }] };
    const calculated = await client.calculate('model', data);
    expect(calculated).toEqual(expect.objectContaining({ numberOfChildren: 1, monthlyBenefit: 1766 }));
    const issues = await client.validateData('model', { ...data, children: [] });
    expect(issues.map((issue) => issue.code)).toEqual(expect.arrayContaining(['NoChildren', 'IncomeMissing']));
    expect(await client.prefill('model', { partyId: OWNER_PARTY })).toMatchObject({ applicant: { name: 'Ola Nordmann' } });
    expect(await failure(client.calculate('no-such-type', data))).toMatchObject({ kind: 'invalid' });
  });
});

describe("Altinn's other instance routes", () => {
  test('activeInstances lists an unfinished instance; deleteInstance deletes it softly; texts are public', async () => {
    const instance = await client.createInstance();
    expect((await client.activeInstances(OWNER_PARTY)).map((entry) => entry.id)).toContain(instance.id);
    const deleted = await client.deleteInstance(instance.id);
    expect(deleted.status.isSoftDeleted).toBe(true);
    expect((await client.getInstance(instance.id)).status.isSoftDeleted).toBe(true);
    expect(await client.texts('en')).toMatchObject({ language: 'en', resources: expect.arrayContaining([{ id: 'appName', value: 'Application for child benefit' }]) });
  });
});

describe('tokens and failures', () => {
  test('a token function is asked for each call', async () => {
    let calls = 0;
    const withProvider = new AppClient({ baseUrl: appUrl, appId: 'nav/child-benefit', token: async () => (calls++, ownerToken) });
    const instance = await withProvider.createInstance();
    await withProvider.getInstance(instance.id);
    expect(calls).toBe(2);
  });

  test("another party's instance is not_found, a bad token unauthenticated, a dead app APP_UNAVAILABLE", async () => {
    const instance = await client.createInstance();
    const otherToken = (h.storage.auth.otherOwner.authorization as string).replace(/^Bearer /, '');
    const other = new AppClient({ baseUrl: appUrl, appId: 'nav/child-benefit', token: otherToken });
    expect(await failure(other.getInstance(instance.id))).toMatchObject({ kind: 'not_found' });
    expect(await failure(other.createInstance({}, { partyId: OWNER_PARTY }))).toMatchObject({ kind: 'forbidden' });
    // The same refusals the other way round: what the other party makes for itself, the owner cannot see.
    const theirs = await other.createInstance({}, { partyId: OTHER_PARTY });
    expect(theirs.instanceOwner.partyId).toBe(OTHER_PARTY);
    expect(await failure(client.getInstance(theirs.id))).toMatchObject({ kind: 'not_found' });

    const bad = new AppClient({ baseUrl: appUrl, appId: 'nav/child-benefit', token: 'not-a-token' });
    expect(await failure(bad.getInstance(instance.id))).toMatchObject({ kind: 'unauthenticated' });

    const dead = new AppClient({ baseUrl: 'http://127.0.0.1:1', appId: 'nav/child-benefit', token: ownerToken });
    expect(await failure(dead.getInstance(instance.id))).toMatchObject({ kind: 'unavailable', code: 'APP_UNAVAILABLE' });
  });

  test('ids are checked before anything is sent', () => {
    expect(() => new AppClient({ baseUrl: appUrl, appId: 'child-benefit', token: 'x' })).toThrow(/<org>\/<app>/);
    return expect(client.getInstance('../../etc')).rejects.toThrow(/<partyId>\/<instanceGuid>/);
  });
});
