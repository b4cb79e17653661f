/**
 * Actions a process branches on (Altinn's `reject`), with the real storage behind the app: skd/tax-return with a
 * process whose confirmation can be rejected (back to the form, which opens again) and whose form can be withdrawn
 * (to an end of its own, without the form having to be valid).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataElement, Instance, ProcessState } from '@forms/contracts';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, processNext } from './support/fixtures';

const PROCESS = {
  startEvent: { id: 'StartEvent_1', next: 'Task_1' },
  elements: [
    { kind: 'task', id: 'Task_1', name: 'Fill in the tax return', taskType: 'data', next: 'Filled' },
    { kind: 'gateway', id: 'Filled', branches: [{ when: { action: 'reject' }, next: 'Withdrawn' }], otherwise: 'Task_2' },
    { kind: 'task', id: 'Task_2', name: 'Confirm and submit', taskType: 'confirmation', next: 'Confirmed' },
    { kind: 'gateway', id: 'Confirmed', branches: [{ when: { action: 'reject' }, next: 'Task_1' }], otherwise: 'EndEvent_1' },
    { kind: 'end', id: 'EndEvent_1' },
    { kind: 'end', id: 'Withdrawn' },
  ],
};

let h: AppHarness;
let folder: string;
let owner: Record<string, string>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'reject-app-'));
  cpSync(appFolder('skd/tax-return'), folder, { recursive: true });
  writeFileSync(join(folder, 'process.json'), JSON.stringify(PROCESS));
  h = await startApp('skd/tax-return', { appDir: folder });
  owner = h.storage.auth.owner;
});
afterAll(async () => {
  await h.close();
  rmSync(folder, { recursive: true, force: true });
});

const next = (instance: Instance, action?: string) => processNext(h, owner, instance, action);
const putForm = (instance: Instance, form: DataElement, data: Record<string, unknown>) =>
  h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...owner, 'content-type': 'application/json' }, payload: data });
const formOf = (instance: Instance) => instance.data.find((element) => element.dataType === 'model') as DataElement;

test('a rejected confirmation goes back to the form, which is open again, and a second round ends the process', async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  expect((await putForm(instance, formOf(instance), { income: 400_000 })).statusCode).toBe(200);
  expect((await next(instance)).json<ProcessState>().currentTask).toMatchObject({ elementId: 'Task_2' });
  expectProblem(await putForm(instance, formOf(instance), { income: 1 }), 409, 'NOT_IN_TASK');

  const rejected = await next(instance, 'reject');
  expect(rejected.statusCode).toBe(200);
  expect(rejected.json<ProcessState>().currentTask).toMatchObject({ elementId: 'Task_1', altinnTaskType: 'data', flow: 3 });
  const corrected = await putForm(instance, formOf(instance), { income: 450_000 });
  expect(corrected.statusCode).toBe(200);
  expect(corrected.json()).toMatchObject({ changedFields: { tax: 99_000 } });

  expect((await next(instance)).json<ProcessState>().currentTask).toMatchObject({ elementId: 'Task_2', flow: 4 });
  const confirmed = await next(instance, 'confirm');
  expect(confirmed.json<ProcessState>()).toMatchObject({ endEvent: 'EndEvent_1', currentTask: null });
  const history = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process/history`, headers: owner });
  const started = history.json<{ processHistory: Array<{ eventType: string; elementId: string }> }>().processHistory.filter((item) => item.eventType === 'process_StartTask');
  expect(started.map((item) => item.elementId)).toEqual(['Task_1', 'Task_2', 'Task_1', 'Task_2']);
});

test('reject is taken only where the process branches on it; a withdrawn form need not be valid', async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  // Deductions above the income: the form has a validation error, so it cannot be submitted...
  expect((await putForm(instance, formOf(instance), { income: 100, deductions: [{ description: 'x', amount: 500 }] })).statusCode).toBe(200);
  expectProblem(await next(instance), 409, 'VALIDATION_FAILED');
  // ...but it can be withdrawn, which is where the flow after Task_1 sends a rejection.
  expect((await next(instance, 'reject')).json<ProcessState>()).toMatchObject({ endEvent: 'Withdrawn', currentTask: null });

  // An action no gateway after the task branches on is refused, not taken as submit.
  const other = await createInstance(h, owner, OWNER_PARTY);
  expectProblem(await next(other, 'approve'), 400, 'ACTION_NOT_SUPPORTED');
});

test('completeProcess completes each task plainly: it never rejects', async () => {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  expect((await putForm(instance, formOf(instance), { income: 100 })).statusCode).toBe(200);
  const completed = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/completeProcess`, headers: owner });
  expect(completed.json<ProcessState>()).toMatchObject({ endEvent: 'EndEvent_1' });
});
