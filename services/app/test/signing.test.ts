/**
 * A signing task (Altinn's signing, with signatureConfig), with the real storage behind the app: skd/tax-return
 * with a task that signs the return before it ends. The signature names the form by the hash of what storage holds,
 * only the app can store one, and a retry after a failed move does not sign twice.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageClient } from '@forms/client';
import { DomainError, type DataElement, type Instance, type ProcessState } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, processNext, STORAGE_API } from './support/fixtures';

const PROCESS = {
  startEvent: { id: 'StartEvent_1', next: 'Task_1' },
  elements: [
    { kind: 'task', id: 'Task_1', name: 'Fill in the tax return', taskType: 'data', next: 'Task_2' },
    { kind: 'task', id: 'Task_2', name: 'Sign', taskType: 'signing', next: 'EndEvent_1', signatureConfig: { dataTypesToSign: ['model', 'receipt'], signatureDataType: 'signature' } },
    { kind: 'end', id: 'EndEvent_1' },
  ],
};
const SIGNATURE_TYPE = { id: 'signature', allowedContentTypes: ['application/json'], allowedContributors: ['app:owned'], taskId: 'Task_2', minCount: 0, maxCount: 0 };

let h: AppHarness;
let folder: string;
let owner: Record<string, string>;
/** Set by a test: the next process move storage is asked for fails once, after the signature is stored. */
let failNextMove = false;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'signing-app-'));
  cpSync(appFolder('skd/tax-return'), folder, { recursive: true });
  writeFileSync(join(folder, 'process.json'), JSON.stringify(PROCESS));
  const metadata = JSON.parse(readFileSync(join(folder, 'applicationmetadata.json'), 'utf8')) as { dataTypes: object[] };
  metadata.dataTypes.push(SIGNATURE_TYPE);
  writeFileSync(join(folder, 'applicationmetadata.json'), JSON.stringify(metadata));
  h = await startApp('skd/tax-return', {
    appDir: folder,
    wrapStorage: (real) =>
      Object.assign(Object.create(real) as StorageClient, {
        async updateProcess(this: StorageClient, ...args: Parameters<StorageClient['updateProcess']>) {
          if (failNextMove) {
            failNextMove = false;
            throw new DomainError('unavailable', 'STORAGE_UNAVAILABLE', 'storage went away for a moment');
          }
          return StorageClient.prototype.updateProcess.apply(this, args);
        },
      }),
  });
  owner = h.storage.auth.owner;
});
afterAll(async () => {
  await h.close();
  rmSync(folder, { recursive: true, force: true });
});

const next = (instance: Instance, action?: string) => processNext(h, owner, instance, action);
const read = async (instance: Instance) => (await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: owner })).json<Instance>();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function inSigning(): Promise<{ instance: Instance; form: DataElement }> {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const form = instance.data.find((element) => element.dataType === 'model') as DataElement;
  const saved = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/data/${form.id}`,
    headers: { ...owner, 'content-type': 'application/json' },
    payload: { taxYear: 2025, income: 500_000 },
  });
  expect(saved.statusCode).toBe(200);
  expect((await next(instance)).json<ProcessState>().currentTask).toMatchObject({ elementId: 'Task_2', altinnTaskType: 'signing' });
  return { instance, form };
}

test('signing stores a signature document naming the form by the hash of its stored content, then the process moves on', async () => {
  const { instance, form } = await inSigning();
  expectProblem(await next(instance, 'confirm'), 400, 'ACTION_NOT_SUPPORTED');

  const signed = await next(instance, 'sign');
  expect(signed.json<ProcessState>()).toMatchObject({ endEvent: 'EndEvent_1', currentTask: null });
  const after = await read(instance);
  const signatures = after.data.filter((element) => element.dataType === 'signature');
  expect(signatures).toHaveLength(1);
  expect(signatures[0]).toMatchObject({ contentType: 'application/json', createdBy: '1001', locked: true });

  const document = (await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${signatures[0]?.id}`, headers: owner })).json();
  // What storage holds of the form, byte for byte, is what the signature names.
  const stored = await h.storage.app.inject({ url: `${STORAGE_API}/instances/${instance.id}/data/${form.id}`, headers: h.storage.auth.skd });
  expect(document).toMatchObject({
    instanceGuid: instance.id.split('/')[1],
    signeeInfo: { userId: '1001', partyId: OWNER_PARTY },
    dataElementSignatures: [{ dataElementId: form.id, sha256Hash: sha256(stored.rawPayload), signed: true }],
  });
});

test('only the app stores a signature: a party can neither upload one through the app nor to storage', async () => {
  const { instance } = await inSigning();
  const forged = JSON.stringify({ signeeInfo: { userId: '1001' }, dataElementSignatures: [] });
  const throughApp = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/${instance.id}/data?dataType=signature`,
    headers: { ...owner, 'content-type': 'application/json' },
    payload: forged,
  });
  expectProblem(throughApp, 403, 'DATA_TYPE_NOT_WRITABLE');
  const direct = await h.storage.app.inject({
    method: 'POST',
    url: `${STORAGE_API}/instances/${instance.id}/data?dataType=signature`,
    headers: { ...owner, 'content-type': 'application/json' },
    payload: forged,
  });
  expect(direct.statusCode).toBe(403);
  expect((await read(instance)).data.some((element) => element.dataType === 'signature')).toBe(false);
});

test('no action in a signing task signs; a retry after the move failed signs no second time', async () => {
  const { instance } = await inSigning();
  failNextMove = true;
  expectProblem(await next(instance), 503, 'STORAGE_UNAVAILABLE');
  const between = await read(instance);
  expect(between.process.currentTask?.elementId).toBe('Task_2');
  expect(between.data.filter((element) => element.dataType === 'signature')).toHaveLength(1);

  expect((await next(instance)).json<ProcessState>()).toMatchObject({ endEvent: 'EndEvent_1' });
  expect((await read(instance)).data.filter((element) => element.dataType === 'signature')).toHaveLength(1);
});

test('a signing task with nothing to sign yet is refused, and the process stays where it is', async () => {
  // The same app, but its signing task signs receipts only: a return filed without one has nothing to sign.
  const receiptsOnly = mkdtempSync(join(tmpdir(), 'signing-receipts-app-'));
  cpSync(folder, receiptsOnly, { recursive: true });
  const signReceipts = { ...PROCESS.elements[1], signatureConfig: { dataTypesToSign: ['receipt'], signatureDataType: 'signature' } };
  writeFileSync(join(receiptsOnly, 'process.json'), JSON.stringify({ ...PROCESS, elements: [PROCESS.elements[0], signReceipts, PROCESS.elements[2]] }));
  const other = await startApp('skd/tax-return', { appDir: receiptsOnly });
  try {
    const person = other.storage.auth.owner;
    const instance = await createInstance(other, person, OWNER_PARTY);
    const form = instance.data.find((element) => element.dataType === 'model') as DataElement;
    const saved = await other.app.inject({ method: 'PUT', url: `${other.base}/instances/${instance.id}/data/${form.id}`, headers: { ...person, 'content-type': 'application/json' }, payload: { income: 1 } });
    expect(saved.statusCode).toBe(200);
    expect((await processNext(other, person, instance)).statusCode).toBe(200);
    expectProblem(await processNext(other, person, instance, 'sign'), 409, 'NOTHING_TO_SIGN');
    const stored = (await other.app.inject({ url: `${other.base}/instances/${instance.id}`, headers: person })).json<Instance>();
    expect(stored.process.currentTask?.elementId).toBe('Task_2');
    expect(stored.data.some((element) => element.dataType === 'signature')).toBe(false);
  } finally {
    await other.close();
    rmSync(receiptsOnly, { recursive: true, force: true });
  }
});
