/**
 * process/next and PATCH write what the app decided on a state it read, guarded by that state's version. When
 * another write lands in between (made here for real, through storage, right before the app's own write), the
 * app's write is refused and nothing it decided on a stale state is stored: 412 if the caller sent If-Match, else
 * 409 CHANGED_MEANWHILE (the caller stated no precondition). A patch of two forms that fails on the second leaves
 * the first as it was.
 *
 * The app is nav/child-benefit with a second form type, `note` (auto-created, in Task_1).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageClient } from '@forms/client';
import type { DataElement, Instance } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, storedInstance } from './support/fixtures';

let folder: string;
let h: AppHarness;
let owner: Record<string, string>;
/** Set by a test: the next process or form write of the app is preceded by another write to the same instance. */
let interfere: ((client: StorageClient, token: string, instanceId: string) => Promise<unknown>) | undefined;
/** When set, only a form write of this element is interfered with. */
let interfereOn: string | undefined;

function appWithTwoForms(): string {
  const target = mkdtempSync(join(tmpdir(), 'app-two-forms-'));
  const source = appFolder('nav/child-benefit');
  for (const entry of ['models', 'texts', 'process.bpmn']) cpSync(join(source, entry), join(target, entry), { recursive: true });
  writeFileSync(join(target, 'models', 'Note.schema.json'), JSON.stringify({ title: 'Note', type: 'object', properties: { text: { type: 'string' } } }));
  const metadata = JSON.parse(readFileSync(join(source, 'applicationmetadata.json'), 'utf8')) as { dataTypes: object[] };
  metadata.dataTypes.push({
    id: 'note',
    allowedContentTypes: ['application/json'],
    taskId: 'Task_1',
    minCount: 0,
    maxCount: 1,
    appLogic: { schemaRef: 'models/Note.schema.json', autoCreate: true, classRef: 'Note' },
  });
  writeFileSync(join(target, 'applicationmetadata.json'), JSON.stringify(metadata));
  writeFileSync(join(target, 'rules.ts'), `export { default } from ${JSON.stringify(join(source, 'rules'))};\n`);
  return target;
}

beforeAll(async () => {
  folder = appWithTwoForms();
  h = await startApp('nav/child-benefit', {
    appDir: folder,
    wrapStorage: (real) =>
      Object.assign(Object.create(real) as StorageClient, {
        async updateProcess(this: StorageClient, ...args: Parameters<StorageClient['updateProcess']>) {
          await interfereOnce(real, args[0], args[1]);
          return StorageClient.prototype.updateProcess.apply(this, args);
        },
        async replaceData(this: StorageClient, ...args: Parameters<StorageClient['replaceData']>) {
          await interfereOnce(real, args[0], args[1], args[2]);
          return StorageClient.prototype.replaceData.apply(this, args);
        },
      }),
  });
  owner = h.storage.auth.owner;
});
afterAll(async () => {
  await h?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function interfereOnce(client: StorageClient, token: string, instanceId: string, dataId?: string): Promise<void> {
  if (interfereOn !== undefined && interfereOn !== dataId) return;
  const write = interfere;
  interfere = undefined;
  await write?.(client, token, instanceId);
}

const formXml = `<ChildBenefit><applicant><name>Kari</name><personNumber>01017012345</personNumber><monthlyIncome>30000</monthlyIncome></applicant><children><name>Lise</name><birthYear>2022</birthYear></children></ChildBenefit>`;

async function filledInstance(): Promise<{ instance: Instance; form: DataElement }> {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const form = instance.data.find((element) => element.dataType === 'model') as DataElement;
  const put = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...owner, 'content-type': 'application/xml' }, payload: formXml });
  expect(put.statusCode).toBe(200);
  return { instance, form: put.json<DataElement>() };
}

test('process/next that loses the race to another write moves nothing: 409 without If-Match, 412 with it', async () => {
  const { instance } = await filledInstance();
  const next = (headers: Record<string, string> = {}) => h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: { ...owner, ...headers } });
  interfere = (client, token, instanceId) => client.setReadStatus(token, instanceId, 'Read');
  expectProblem(await next(), 409, 'CHANGED_MEANWHILE');
  const read = await storedInstance(h, owner, instance.id);
  expect(read?.process.currentTask?.elementId).toBe('Task_1');

  interfere = (client, token, instanceId) => client.setReadStatus(token, instanceId, 'Unread');
  expectProblem(await next({ 'if-match': `"${read?.version}"` }), 412, 'VERSION_MISMATCH');
  expect((await storedInstance(h, owner, instance.id))?.process.currentTask?.elementId).toBe('Task_1');

  // Undisturbed, it moves.
  expect((await next()).json<Instance['process']>().ended).toBeDefined();
});

test('a PATCH whose form changed after the app read it writes nothing: 409 without If-Match', async () => {
  const { instance, form } = await filledInstance();
  interfere = (client, token, instanceId) =>
    client.replaceData(token, instanceId, form.id, JSON.stringify({ applicant: { name: 'Ola' } }), { contentType: 'application/json' });
  const patch = await h.app.inject({
    method: 'PATCH',
    url: `${h.base}/instances/${instance.id}/data/${form.id}`,
    headers: { ...owner, 'content-type': 'application/json' },
    payload: { patch: [{ op: 'replace', path: '/applicant/name', value: 'Kari Nordmann' }] },
  });
  expectProblem(patch, 409, 'CHANGED_MEANWHILE');
  const stored = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: owner });
  expect(stored.json<{ applicant: { name: string } }>().applicant.name).toBe('Ola');
});

test('a patch of two forms whose second changed meanwhile writes neither: the first gets its content back', async () => {
  const { instance, form } = await filledInstance();
  const note = instance.data.find((element) => element.dataType === 'note') as DataElement;
  const read = async (element: DataElement) => (await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: owner })).json<Record<string, unknown>>();
  const formBefore = await read(form);
  interfereOn = note.id;
  interfere = (client, token, instanceId) => client.replaceData(token, instanceId, note.id, JSON.stringify({ text: 'from elsewhere' }), { contentType: 'application/json' });
  const patch = await h.app.inject({
    method: 'PATCH',
    url: `${h.base}/instances/${instance.id}/data`,
    headers: { ...owner, 'content-type': 'application/json' },
    payload: {
      patches: [
        { dataElementId: form.id, patch: [{ op: 'replace', path: '/applicant/name', value: 'Kari Nordmann' }] },
        { dataElementId: note.id, patch: [{ op: 'add', path: '/text', value: 'from the patch' }] },
      ],
    },
  });
  interfereOn = undefined;
  expectProblem(patch, 409, 'CHANGED_MEANWHILE');
  expect(await read(form)).toEqual(formBefore);
  expect(await read(note)).toEqual({ text: 'from elsewhere' });
});
