/**
 * Storage lets the app change any data type of its instances until the process ends (the app is the authority);
 * the app in turn holds a party to the rules storage holds a party to directly: a data type bound to a task changes
 * only in that task, and a type whose contributors are orgs is not the party's to write. Checked through the app
 * and, for the same change, against storage directly: the two answer alike, and nothing changes.
 *
 * The app is nav/child-benefit with two more data types: `decision`, that only nav contributes to (no task), and
 * `statement`, an attachment of the confirmation task (Task_2).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataElement, Instance } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, instanceCount, PDF, STORAGE_API, storedInstance } from './support/fixtures';

let folder: string;
let h: AppHarness;
let owner: Record<string, string>;
let nav: Record<string, string>;

function appWithOrgDecisions(): string {
  const target = mkdtempSync(join(tmpdir(), 'app-data-access-'));
  const source = appFolder('nav/child-benefit');
  for (const entry of ['models', 'texts', 'process.bpmn']) cpSync(join(source, entry), join(target, entry), { recursive: true });
  const metadata = JSON.parse(readFileSync(join(source, 'applicationmetadata.json'), 'utf8')) as { dataTypes: object[] };
  metadata.dataTypes.push(
    { id: 'decision', allowedContentTypes: ['application/pdf'], allowedContributors: ['org:nav'], minCount: 0, maxCount: 1 },
    { id: 'statement', allowedContentTypes: ['application/pdf'], taskId: 'Task_2', minCount: 0, maxCount: 1 },
  );
  writeFileSync(join(target, 'applicationmetadata.json'), JSON.stringify(metadata));
  writeFileSync(join(target, 'rules.ts'), `export { default } from ${JSON.stringify(join(source, 'rules'))};\n`);
  return target;
}

beforeAll(async () => {
  folder = appWithOrgDecisions();
  h = await startApp('nav/child-benefit', { appDir: folder });
  owner = h.storage.auth.owner;
  nav = h.storage.auth.nav;
});
afterAll(async () => {
  await h.close();
  rmSync(folder, { recursive: true, force: true });
});

const formXml = (income: number) =>
  `<ChildBenefit><applicant><name>Kari</name><personNumber>01017012345</personNumber><monthlyIncome>${income}</monthlyIncome></applicant><children><name>Lise</name><birthYear>2022</birthYear></children></ChildBenefit>`;
const upload = (instance: Instance, dataType: string, headers: Record<string, string>) =>
  h.app.inject({ method: 'POST', url: `${h.base}/instances/${instance.id}/data?dataType=${dataType}`, headers: { ...headers, 'content-type': 'application/pdf' }, payload: PDF });
const uploadToStorage = (instance: Instance, dataType: string) =>
  h.storage.app.inject({ method: 'POST', url: `${STORAGE_API}/instances/${instance.id}/data?dataType=${dataType}`, headers: { ...owner, 'content-type': 'application/pdf' }, payload: PDF });
const remove = (instance: Instance, element: DataElement, headers: Record<string, string>) =>
  h.app.inject({ method: 'DELETE', url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers });
const dataTypes = async (instance: Instance) => ((await storedInstance(h, owner, instance.id))?.data ?? []).map((element) => element.dataType).sort();

test("a type of Task_1 is not added to or deleted from through the app once the process is in Task_2", async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const form = instance.data.find((element) => element.dataType === 'model') as DataElement;
  const put = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...owner, 'content-type': 'application/xml' }, payload: formXml(60_000) });
  expect(put.statusCode).toBe(200);
  const proof = await upload(instance, 'proof', owner);
  expect(proof.statusCode).toBe(201);
  const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
  expect(next.json<Instance['process']>().currentTask?.elementId).toBe('Task_2');

  expectProblem(await upload(instance, 'proof', owner), 409, 'NOT_IN_TASK');
  expectProblem(await uploadToStorage(instance, 'proof'), 409, 'NOT_IN_TASK');
  expectProblem(await remove(instance, proof.json<DataElement>(), owner), 409, 'NOT_IN_TASK');
  const json = await h.app.inject({ method: 'POST', url: `${h.base}/instances/${instance.id}/data?dataType=model`, headers: { ...owner, 'content-type': 'application/json' }, payload: {} });
  expectProblem(json, 409, 'NOT_IN_TASK');
  expect(await dataTypes(instance)).toEqual(['model', 'proof']);
});

test('a type only the org contributes to: the party may not add or delete it through the app; the org may', async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  expectProblem(await upload(instance, 'decision', owner), 403, 'DATA_TYPE_NOT_WRITABLE');
  expectProblem(await uploadToStorage(instance, 'decision'), 403, 'DATA_TYPE_NOT_WRITABLE');
  const decision = await upload(instance, 'decision', nav);
  expect(decision.statusCode).toBe(201);
  expectProblem(await remove(instance, decision.json<DataElement>(), owner), 403, 'DATA_TYPE_NOT_WRITABLE');
  expect(await dataTypes(instance)).toEqual(['decision', 'model']);
  expect((await remove(instance, decision.json<DataElement>(), nav)).statusCode).toBe(204);
  expect(await dataTypes(instance)).toEqual(['model']);
});

test('a multipart instantiation is held to the same rules: its parts are of types the party may write in the first task', async () => {
  const multipart = (dataType: string) => {
    const boundary = 'data-access-boundary';
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="instance"\r\nContent-Type: application/json\r\n\r\n{}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${dataType}"; filename="${dataType}.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
      PDF,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return h.app.inject({
      method: 'POST',
      url: `${h.base}/instances?instanceOwnerPartyId=${OWNER_PARTY}`,
      headers: { ...owner, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
  };
  const before = await instanceCount(h, nav, OWNER_PARTY);
  expectProblem(await multipart('decision'), 403, 'DATA_TYPE_NOT_WRITABLE');
  expectProblem(await multipart('statement'), 409, 'NOT_IN_TASK');
  expect(await instanceCount(h, nav, OWNER_PARTY)).toBe(before);
  const proof = await multipart('proof');
  expect(proof.statusCode).toBe(201);
  expect(proof.json<Instance>().data.map((element) => element.dataType).sort()).toEqual(['model', 'proof']);
});
