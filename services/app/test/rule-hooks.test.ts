/**
 * What only a full process run shows: the app's onTaskEnd and onProcessEnd hooks are called, once per task and
 * once at the end, with the instance as it is then; and the data element counts of the app's metadata
 * (minCount, maxCount) become validation issues. The app is skd/tax-return's folder with rules that wrap its own
 * and append each hook call to a file, which the test reads: an effect outside the service, not a spy on it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '@forms/contracts';
import { OWNER_PARTY, startStorage, type StorageHarness } from '../../storage/test/support/storage-harness';
import { appFolder, startApp, type AppHarness } from './support/app-harness';
import { PDF } from './support/fixtures';

let storage: StorageHarness;
let folder: string;
let h: AppHarness;
const hookLog = () => join(folder, 'hooks.log');

function writeAppFolder(receiptMaxCount: number): string {
  const target = mkdtempSync(join(tmpdir(), 'app-hooks-'));
  const source = appFolder('skd/tax-return');
  for (const entry of ['models', 'process.json']) cpSync(join(source, entry), join(target, entry), { recursive: true });
  const metadata = JSON.parse(readFileSync(join(source, 'applicationmetadata.json'), 'utf8')) as { dataTypes: Array<{ id: string; maxCount: number }> };
  metadata.dataTypes.find((type) => type.id === 'receipt')!.maxCount = receiptMaxCount;
  writeFileSync(join(target, 'applicationmetadata.json'), JSON.stringify(metadata));
  writeFileSync(
    join(target, 'rules.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineRules } from '@forms/app-definition';
import taxReturn from ${JSON.stringify(join(source, 'rules'))};
const log = (entry: object) => appendFileSync(${JSON.stringify(join(target, 'hooks.log'))}, JSON.stringify(entry) + '\\n');
export default defineRules({
  ...taxReturn,
  onTaskEnd(taskId, ctx) {
    log({ hook: 'onTaskEnd', taskId, instanceId: ctx.instance.id, currentTask: ctx.instance.process.currentTask?.elementId ?? null, forms: [...ctx.formData.values()].map((f) => f.dataType) });
  },
  onProcessEnd(ctx) {
    log({ hook: 'onProcessEnd', instanceId: ctx.instance.id, endEvent: ctx.instance.process.endEvent ?? null });
  },
});
`,
  );
  return target;
}

beforeAll(async () => {
  storage = await startStorage();
  await storage.app.listen({ host: '127.0.0.1', port: 0 });
  folder = writeAppFolder(10);
  h = await startApp('skd/tax-return', { storage, appDir: folder });
});
afterAll(async () => {
  await h.close();
  await storage.close();
  rmSync(folder, { recursive: true, force: true });
});

const owner = () => storage.auth.owner;
const next = (instance: Instance) => h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner() });
const validate = async (app: AppHarness, instance: Instance) =>
  (await app.app.inject({ url: `${app.base}/instances/${instance.id}/validate`, headers: owner() })).json<Array<{ code: string; field?: string }>>();
const createReturn = async () => {
  const created = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: owner(), payload: {} });
  expect(created.statusCode).toBe(201);
  const instance = created.json<Instance>();
  const form = instance.data.find((d) => d.dataType === 'model')!;
  const put = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/data/${form.id}`,
    headers: { ...owner(), 'content-type': 'application/json' },
    payload: { income: 400_000, deductions: [] },
  });
  expect(put.statusCode).toBe(200);
  return instance;
};
const logLines = () => (existsSync(hookLog()) ? readFileSync(hookLog(), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) : []);

test('onTaskEnd runs as each task ends, onProcessEnd once at the end, each with the instance as it is then', async () => {
  const instance = await createReturn();
  const before = logLines().length;
  expect((await next(instance)).statusCode).toBe(200);
  expect(logLines().slice(before)).toEqual([{ hook: 'onTaskEnd', taskId: 'Task_1', instanceId: instance.id, currentTask: 'Task_1', forms: ['model'] }]);
  const ended = await next(instance);
  expect(ended.json<Instance['process']>().endEvent).toBe('EndEvent_1');
  expect(logLines().slice(before)).toEqual([
    { hook: 'onTaskEnd', taskId: 'Task_1', instanceId: instance.id, currentTask: 'Task_1', forms: ['model'] },
    { hook: 'onTaskEnd', taskId: 'Task_2', instanceId: instance.id, currentTask: 'Task_2', forms: ['model'] },
    { hook: 'onProcessEnd', instanceId: instance.id, endEvent: 'EndEvent_1' },
  ]);
  // A refused step (the process has ended) calls no hook.
  expect((await next(instance)).statusCode).toBe(409);
  expect(logLines().slice(before)).toHaveLength(3);
});

test('minCount: a task without its required form is a TooFewDataElementsOfType issue and cannot be completed', async () => {
  const instance = await createReturn();
  const form = instance.data.find((d) => d.dataType === 'model')!;
  expect((await h.app.inject({ method: 'DELETE', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: owner() })).statusCode).toBe(204);
  expect(await validate(h, instance)).toEqual([expect.objectContaining({ code: 'TooFewDataElementsOfType', description: expect.stringContaining("'model'") })]);
  const refused = await next(instance);
  expect(refused.statusCode).toBe(409);
  expect(refused.json().code).toBe('VALIDATION_FAILED');
});

test('maxCount: after the app is redeployed with a lower maxCount, the extra receipts are a TooManyDataElementsOfType issue', async () => {
  const instance = await createReturn();
  for (let i = 0; i < 3; i++) {
    const receipt = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=receipt`,
      headers: { ...owner(), 'content-type': 'application/pdf' },
      payload: PDF,
    });
    expect(receipt.statusCode).toBe(201);
  }
  expect(await validate(h, instance)).toEqual([]);
  // The same app, new version: at most two receipts. It registers itself in the same storage.
  const strictFolder = writeAppFolder(2);
  const strict = await startApp('skd/tax-return', { storage, appDir: strictFolder });
  try {
    expect(await validate(strict, instance)).toEqual([expect.objectContaining({ code: 'TooManyDataElementsOfType', description: expect.stringContaining("'receipt'") })]);
  } finally {
    await strict.close();
    rmSync(strictFolder, { recursive: true, force: true });
  }
});
