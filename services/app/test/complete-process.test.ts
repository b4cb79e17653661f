/**
 * Altinn's `PUT process/completeProcess`: task after task to the end in one request, each validated as
 * `process/next` validates it. skd/tax-return (a data task, a confirmation task) with the real storage behind it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance, ProcessHistoryItem } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { expectProblem } from './support/fixtures';

let h: AppHarness;
let system: Record<string, string>;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  system = h.storage.auth.system;
});
afterAll(() => h.close());

const create = async (prefill: Record<string, unknown>) => {
  const response = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/create`,
    headers: { ...system, 'content-type': 'application/json' },
    payload: { instanceOwner: { partyId: SYSTEM_PARTY }, prefill },
  });
  expect(response.statusCode).toBe(201);
  return response.json<Instance>();
};
const complete = (instance: Instance) => h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/completeProcess`, headers: system });

test('runs the data task and the confirmation task to the end in one request; once ended it is 409', async () => {
  const instance = await create({ income: 300_000, deductions: [{ description: 'Union dues', amount: 4_000 }] });
  const response = await complete(instance);
  expect(response.statusCode).toBe(200);
  expect(response.json()).toMatchObject({ endEvent: 'EndEvent_1', currentTask: null, ended: expect.any(String) });
  expect(response.headers.etag).toBeDefined();

  const history = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process/history`, headers: system });
  expect(history.json<{ processHistory: ProcessHistoryItem[] }>().processHistory.map((item) => [item.eventType, item.elementId])).toEqual([
    ['process_StartEvent', 'StartEvent_1'],
    ['process_StartTask', 'Task_1'],
    ['process_EndTask', 'Task_1'],
    ['process_StartTask', 'Task_2'],
    ['process_EndTask', 'Task_2'],
    ['process_EndEvent', 'EndEvent_1'],
  ]);
  const stored = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system });
  expect(stored.json<Instance>().status.isArchived).toBe(true);

  expectProblem(await complete(instance), 409, 'PROCESS_ENDED');
});

test('a data task with validation errors stops it there: 409 with the issues, nothing moved', async () => {
  const instance = await create({ income: 1_000, deductions: [{ description: 'Office', amount: 50_000 }] });
  const refused = expectProblem(await complete(instance), 409, 'VALIDATION_FAILED');
  expect(refused.validationIssues).toEqual([expect.objectContaining({ code: 'DeductionsExceedIncome', severity: 1 })]);
  const stored = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: system });
  expect(stored.json<Instance>().process.currentTask).toMatchObject({ elementId: 'Task_1' });
  expectProblem(await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/completeProcess`, headers: h.storage.auth.otherOwner }), 404, 'INSTANCE_NOT_FOUND');
});

test('a process that goes round without ending is stopped after 20 tasks (409 PROCESS_DID_NOT_END), and ends once its gateway lets it', async () => {
  // tax-return with a gateway after the confirmation that goes back to the data task until the form is confirmed.
  const folder = mkdtempSync(join(tmpdir(), 'looping-app-'));
  cpSync(appFolder('skd/tax-return'), folder, { recursive: true });
  writeFileSync(
    join(folder, 'process.json'),
    JSON.stringify({
      startEvent: { id: 'StartEvent_1', next: 'Task_1' },
      elements: [
        { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Task_2' },
        { kind: 'task', id: 'Task_2', taskType: 'confirmation', next: 'Gateway_1' },
        { kind: 'gateway', id: 'Gateway_1', branches: [{ when: { dataType: 'model', field: 'confirmedCorrect', equals: true }, next: 'EndEvent_1' }], otherwise: 'Task_1' },
        { kind: 'end', id: 'EndEvent_1' },
      ],
    }),
  );
  const looping = await startApp('skd/tax-return', { appDir: folder });
  const system = looping.storage.auth.system;
  try {
    const start = (prefill: Record<string, unknown>) =>
      looping.app.inject({ method: 'POST', url: `${looping.base}/instances/create`, headers: { ...system, 'content-type': 'application/json' }, payload: { instanceOwner: { partyId: SYSTEM_PARTY }, prefill } });
    const completing = (instance: Instance) => looping.app.inject({ method: 'PUT', url: `${looping.base}/instances/${instance.id}/process/completeProcess`, headers: system });
    const round = (await start({ income: 1_000 })).json<Instance>();
    const stopped = expectProblem(await completing(round), 409, 'PROCESS_DID_NOT_END');
    expect(stopped.detail).toContain('20 tasks');
    const ends = (await start({ income: 1_000, confirmedCorrect: true })).json<Instance>();
    expect((await completing(ends)).json()).toMatchObject({ endEvent: 'EndEvent_1' });
  } finally {
    await looping.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
