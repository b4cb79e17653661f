/**
 * `forms-cli sync` against the real app service of skd/tax-return and a real storage service: completed returns
 * are downloaded into <dir>/<partyId>/<instanceGuid>/, checked by sha256 against storage, confirmed, and a
 * second run finds nothing left to do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '@forms/contracts';
import { AppClient } from '@forms/client';
import { INSTANCE_FILE, MARKER_FILE, type SyncReport } from '../src';
import { pdf, runCli, sha256, sha256OfFile, spyStorage, startTaxReturns, storageFactory, type StorageSpy, type TaxReturnStack } from './support/cli-harness';

let stack: TaxReturnStack;
let dir: string;
let spy: StorageSpy;
let env: Record<string, string>;
/** The instances that should be synced, by id. */
const submitted: string[] = [];
let confirmedBefore: string;
let unfinished: string;

beforeAll(async () => {
  stack = await startTaxReturns();
  dir = mkdtempSync(join(tmpdir(), 'forms-sync-'));
  env = { FORMS_CONFIG_DIR: join(dir, '.config'), FORMS_STORAGE_URL: stack.storageUrl, FORMS_TOKEN: stack.skd };

  submitted.push(await stack.submitReturn('50011', 500_000, [pdf(1500 * 1024), pdf(3000)]));
  submitted.push(await stack.submitReturn('50011', 200_000));
  submitted.push(await stack.submitReturn('50012', 350_000, [pdf(10_000)]));

  // One through the CLI's own `instances create` (form data and a receipt from files), then run to the end.
  const files = mkdtempSync(join(tmpdir(), 'forms-sync-input-'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(files, 'return.json'), JSON.stringify({ income: 420_000, deductions: [{ description: 'Office', amount: 20_000 }] }));
  writeFileSync(join(files, 'office chair.pdf'), pdf(20_000));
  const created = await runCli(
    ['instances', 'create', '--app', 'skd/tax-return', '--party', '50013', '--data', `model=${join(files, 'return.json')}`, '--data', `receipt=${join(files, 'office chair.pdf')}`, '--json'],
    { env: { ...env, FORMS_APP_URL: stack.appUrl, FORMS_TOKEN: stack.personToken('50013') } },
  );
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  const instance = created.json<Instance>();
  expect(instance.data.map((d) => d.dataType).sort()).toEqual(['model', 'receipt']);
  const app = new AppClient({ baseUrl: stack.appUrl, appId: 'skd/tax-return', token: stack.personToken('50013') });
  await app.nextProcess(instance.id);
  await app.nextProcess(instance.id);
  submitted.push(instance.id);
  rmSync(files, { recursive: true, force: true });

  // Completed but already confirmed by skd, and one still being filled in: neither is for the sync.
  confirmedBefore = await stack.submitReturn('50014', 100_000);
  await stack.storage.confirmComplete(stack.skd, confirmedBefore);
  unfinished = (await new AppClient({ baseUrl: stack.appUrl, appId: 'skd/tax-return', token: stack.personToken('50014') }).createInstance({}, { partyId: '50014' })).id;
}, 60_000);
afterAll(async () => {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

const folderOf = (instanceId: string) => join(dir, 'out', ...instanceId.split('/'));

const sync = (extra: string[] = []) =>
  runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'out'), '--size', '2', ...extra], {
    env,
    createStorage: storageFactory((client) => (spy = spyStorage(client)).storage),
  });

test('sync downloads every completed, unconfirmed instance, page by page, and confirms each', async () => {
  const result = await sync(['--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const report = result.json<SyncReport>();
  expect(report.instances.map((i) => i.id).sort()).toEqual([...submitted].sort());
  expect(report).toMatchObject({ downloaded: 4, skipped: 0, confirmed: 4 });
  expect(spy.confirms.sort()).toEqual([...submitted].sort());
  expect(spy.downloads.map((d) => d.instanceId)).not.toContain(confirmedBefore);
  expect(spy.downloads.map((d) => d.instanceId)).not.toContain(unfinished);
});

test('each instance folder holds every data element (sha256 as in storage), instance.json and the marker', async () => {
  for (const id of submitted) {
    const { value: instance } = await stack.storage.getInstance(stack.skd, id);
    const folder = folderOf(id);
    const names = (await readdir(folder)).sort();
    expect(names).toEqual(expect.arrayContaining([INSTANCE_FILE, MARKER_FILE]));
    expect(names).toHaveLength(instance.data.length + 2);
    expect(names.some((name) => name.endsWith('.partial'))).toBe(false);

    const marker = JSON.parse(await readFile(join(folder, MARKER_FILE), 'utf8')) as { files: Array<{ name: string; dataId: string; sha256: string }> };
    for (const element of instance.data) {
      const file = marker.files.find((f) => f.dataId === element.id);
      expect(file).toBeDefined();
      const local = await sha256OfFile(join(folder, file!.name));
      expect(local).toBe(element.contentHash);
      // And against the bytes storage serves now, not only the hash it recorded.
      const download = await stack.storage.downloadData(stack.skd, id, element.id);
      const chunks: Buffer[] = [];
      for await (const chunk of download.body) chunks.push(chunk as Buffer);
      expect(sha256(Buffer.concat(chunks))).toBe(local);
    }
    const saved = JSON.parse(await readFile(join(folder, INSTANCE_FILE), 'utf8')) as Instance;
    expect(saved).toMatchObject({ id, appId: 'skd/tax-return', process: { endEvent: 'EndEvent_1' } });
  }
  // Form data as model.json; receipts under their own names.
  const cliCreated = folderOf(submitted[3] as string);
  expect((await readdir(cliCreated)).sort()).toEqual(['.synced.json', 'instance.json', 'model.json', 'office chair.pdf']);
  expect(JSON.parse(await readFile(join(cliCreated, 'model.json'), 'utf8'))).toMatchObject({ income: 420_000, taxableIncome: 400_000, tax: 88_000 });
});

test('the confirmations are in storage: the instances drop out of excludeConfirmedBy=skd', async () => {
  const left = await runCli(['instances', 'list', '--app', 'skd/tax-return', '--complete', '--exclude-confirmed-by', 'skd', '--json'], { env });
  expect(left.code).toBe(0);
  expect(left.json<{ count: number }>().count).toBe(0);
  for (const id of submitted) {
    const { value } = await stack.storage.getInstance(stack.skd, id);
    expect(value.completeConfirmations.map((c) => c.stakeholderId)).toEqual(['skd']);
  }
});

test('a second run has nothing to do; a newly completed instance is the only one fetched', async () => {
  const again = await sync(['--json']);
  expect(again.code).toBe(0);
  expect(again.json<SyncReport>()).toMatchObject({ downloaded: 0, skipped: 0, confirmed: 0, instances: [] });
  expect(spy.downloads).toEqual([]);

  const late = await stack.submitReturn('50012', 90_000, [pdf(5000)]);
  const third = await sync();
  expect(third.code).toBe(0);
  // The byte count is the content of the instance's data elements, as storage records it and as the files hold it.
  const { value: lateInstance } = await stack.storage.getInstance(stack.skd, late);
  const expectedBytes = lateInstance.data.reduce((sum, element) => sum + element.size, 0);
  const onDisk = await readdir(folderOf(late));
  const fileBytes = (await Promise.all(onDisk.filter((name) => name !== INSTANCE_FILE && name !== MARKER_FILE).map(async (name) => (await stat(join(folderOf(late), name))).size)))
    .reduce((sum, size) => sum + size, 0);
  expect(fileBytes).toBe(expectedBytes);
  expect(expectedBytes).toBeGreaterThan(5000);
  expect(third.stdout).toBe(`confirmed ${late}\n1 downloaded, 0 already on disk, 1 confirmed (${expectedBytes} bytes)\n`);
  expect(new Set(spy.downloads.map((d) => d.instanceId))).toEqual(new Set([late]));
  expect(spy.confirms).toEqual([late]);
});

test('text output shows a progress line only on a terminal, never with --json', async () => {
  await stack.submitReturn('50015', 90_000, [pdf(1200 * 1024)]);
  const onTerminal = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'out')], { env, tty: true });
  expect(onTerminal.code).toBe(0);
  expect(onTerminal.stderr).toMatch(/\r\x1b\[Ksync: \d+ written/);
  await stack.submitReturn('50015', 80_000);
  const json = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'out'), '--json'], { env, tty: true });
  expect(json.code).toBe(0);
  expect(json.stderr).toBe('');
  expect(json.json<SyncReport>().downloaded).toBe(1);
});

test('without service-owner rights the sync fails with the problem code and exit code 2, confirming nothing', async () => {
  await stack.submitReturn('50016', 70_000);
  const asPerson = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'other')], { env: { ...env, FORMS_TOKEN: stack.personToken('50016') } });
  expect(asPerson.code).toBe(2);
  expect(asPerson.stderr).toMatch(/^forms-cli: [A-Z_]+: /);
  const left = await stack.storage.queryInstances(stack.skd, { appId: 'skd/tax-return', 'process.isComplete': true, excludeConfirmedBy: 'skd' });
  expect(left.count).toBe(1);
});
