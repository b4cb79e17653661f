/**
 * process/next and PATCH write what the app decided on a state it read, guarded by that state's version. When
 * another write lands in between (made here for real, through storage, right before the app's own write), the
 * app's write is refused and nothing it decided on a stale state is stored: 412 if the caller sent If-Match, else
 * 409 CHANGED_MEANWHILE (the caller stated no precondition).
 */
import { StorageClient } from '@forms/client';
import type { DataElement, Instance } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, storedInstance } from './support/fixtures';

let h: AppHarness;
let owner: Record<string, string>;
/** Set by a test: the next process or form write of the app is preceded by another write to the same instance. */
let interfere: ((client: StorageClient, token: string, instanceId: string) => Promise<unknown>) | undefined;

beforeAll(async () => {
  h = await startApp('nav/child-benefit', {
    wrapStorage: (real) =>
      Object.assign(Object.create(real) as StorageClient, {
        async updateProcess(this: StorageClient, ...args: Parameters<StorageClient['updateProcess']>) {
          await interfereOnce(real, args[0], args[1]);
          return StorageClient.prototype.updateProcess.apply(this, args);
        },
        async replaceData(this: StorageClient, ...args: Parameters<StorageClient['replaceData']>) {
          await interfereOnce(real, args[0], args[1]);
          return StorageClient.prototype.replaceData.apply(this, args);
        },
      }),
  });
  owner = h.storage.auth.owner;
});
afterAll(() => h.close());

async function interfereOnce(client: StorageClient, token: string, instanceId: string): Promise<void> {
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
