/**
 * `forms-cli sync` interrupted and run again, against the real skd/tax-return app service and storage:
 * nothing is confirmed before all of its files are on disk, and a re-run finishes the job without
 * downloading again what is already safely written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { DomainError } from '@forms/contracts';
import { MARKER_FILE, writeFileAtomic, type SyncReport, type WriteFile } from '../src';
import { pdf, runCli, sha256OfFile, spyStorage, startTaxReturns, storageFactory, type StorageSpy, type TaxReturnStack } from './support/cli-harness';

let stack: TaxReturnStack;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTaxReturns();
  root = mkdtempSync(join(tmpdir(), 'forms-sync-crash-'));
  env = { FORMS_CONFIG_DIR: join(root, '.config'), FORMS_STORAGE_URL: stack.storageUrl, FORMS_TOKEN: stack.skd };
});
afterAll(async () => {
  await stack.close();
  rmSync(root, { recursive: true, force: true });
});

/** Confirmations that came before the instance's files were all on disk with the right content. */
const violations: string[] = [];

/** Before each confirmation: the marker and every data element file must be there, each with storage's sha256. */
async function checkFilesBeforeConfirm(dir: string, instanceId: string): Promise<void> {
  const folder = join(dir, ...instanceId.split('/'));
  const { value: instance } = await stack.storage.getInstance(stack.skd, instanceId);
  try {
    const marker = JSON.parse(await readFile(join(folder, MARKER_FILE), 'utf8')) as { files: Array<{ name: string; dataId: string }> };
    for (const element of instance.data) {
      const file = marker.files.find((f) => f.dataId === element.id);
      if (!file || (await sha256OfFile(join(folder, file.name))) !== element.contentHash) violations.push(`${instanceId}: ${element.id} not on disk`);
    }
    await readFile(join(folder, 'instance.json'));
  } catch (error) {
    violations.push(`${instanceId}: ${(error as Error).message}`);
  }
}

function syncWith(dir: string, seams: { writeFile?: WriteFile; failConfirmOf?: Set<string> } = {}) {
  let spy: StorageSpy | undefined;
  const result = runCli(['sync', '--app', 'skd/tax-return', '--dir', dir, '--size', '2', '--json'], {
    env,
    ...(seams.writeFile && { writeFile: seams.writeFile }),
    createStorage: storageFactory(
      (client) =>
        (spy = spyStorage(client, {
          beforeConfirm: async (instanceId) => {
            await checkFilesBeforeConfirm(dir, instanceId);
            if (seams.failConfirmOf?.delete(instanceId)) throw new DomainError('unavailable', 'STORAGE_UNAVAILABLE', 'Storage is unavailable: connection reset');
          },
        })).storage,
    ),
  });
  return result.then((r) => ({ ...r, spy: spy as StorageSpy }));
}

const unconfirmed = async () =>
  (await stack.storage.queryInstances(stack.skd, { appId: 'skd/tax-return', 'process.isComplete': true, excludeConfirmedBy: 'skd' })).instances.map((i) => i.id);

test('a crash while writing the second instance: the first is confirmed, nothing after it; a re-run finishes without repeating work', async () => {
  const dir = join(root, 'crash-while-writing');
  const first = await stack.submitReturn('50021', 300_000, [pdf(4000)]);
  const second = await stack.submitReturn('50022', 300_000, [pdf(700 * 1024), pdf(5000)]);
  const third = await stack.submitReturn('50023', 300_000, [pdf(6000)]);

  // The seam: the second data file of the second instance dies half-way, as a crash or a full disk would leave it.
  const folders: string[] = [];
  const writesIn = new Map<string, number>();
  const crashing: WriteFile = async (path, source, options) => {
    const folder = dirname(path);
    if (!folders.includes(folder)) folders.push(folder);
    writesIn.set(folder, (writesIn.get(folder) ?? 0) + 1);
    if (folders.indexOf(folder) === 1 && writesIn.get(folder) === 2) {
      await writeFile(join(folder, `.${basename(path)}.deadbeef.partial`), 'half a file');
      (source as Readable).destroy();
      throw new Error('simulated crash: no space left on device');
    }
    return writeFileAtomic(path, source, options);
  };

  const crashed = await syncWith(dir, { writeFile: crashing });
  expect(crashed.code).toBe(2);
  expect(JSON.parse(crashed.stderr)).toEqual({ error: { code: 'ERROR', detail: 'simulated crash: no space left on device' } });
  expect(crashed.spy.confirms).toEqual([first]);
  expect((await unconfirmed()).sort()).toEqual([second, third].sort());
  const secondFolder = join(dir, ...second.split('/'));
  expect(await readdir(secondFolder)).not.toContain(MARKER_FILE);
  expect((await readdir(dir)).sort()).toEqual(['50021', '50022']);

  const rerun = await syncWith(dir);
  expect(rerun.stderr).toBe('');
  expect(rerun.code).toBe(0);
  expect(rerun.json<SyncReport>()).toMatchObject({ downloaded: 2, skipped: 0, confirmed: 2 });
  // The first instance is not fetched again; the second and third are fetched once each per data element.
  const downloadedIds = rerun.spy.downloads.map((d) => d.instanceId);
  expect(downloadedIds).not.toContain(first);
  const { value: secondInstance } = await stack.storage.getInstance(stack.skd, second);
  expect(downloadedIds.filter((id) => id === second)).toHaveLength(secondInstance.data.length);
  expect(rerun.spy.confirms).toEqual([second, third]);
  expect(await unconfirmed()).toEqual([]);
  // The half-written temp file of the crash is gone.
  expect((await readdir(secondFolder)).filter((name) => name.endsWith('.partial'))).toEqual([]);
  expect(violations).toEqual([]);
});

test('a crash after the files are written but before the confirmation: the re-run confirms without downloading again', async () => {
  const dir = join(root, 'crash-before-confirm');
  const first = await stack.submitReturn('50031', 250_000, [pdf(3000)]);
  const second = await stack.submitReturn('50032', 250_000, [pdf(9000)]);

  const crashed = await syncWith(dir, { failConfirmOf: new Set([first]) });
  expect(crashed.code).toBe(2);
  expect(JSON.parse(crashed.stderr)).toMatchObject({ error: { kind: 'unavailable', code: 'STORAGE_UNAVAILABLE' } });
  expect(crashed.spy.confirms).toEqual([]);
  expect((await unconfirmed()).sort()).toEqual([first, second].sort());
  const markerBefore = await readFile(join(dir, ...first.split('/'), MARKER_FILE), 'utf8');

  const rerun = await syncWith(dir);
  expect(rerun.code).toBe(0);
  const report = rerun.json<SyncReport>();
  expect(report).toMatchObject({ downloaded: 1, skipped: 1, confirmed: 2 });
  expect(report.instances.find((i) => i.id === first)).toMatchObject({ downloaded: false });
  expect(rerun.spy.downloads.map((d) => d.instanceId)).not.toContain(first);
  expect(rerun.spy.confirms).toEqual([first, second]);
  // The files of the first instance were left as they were.
  expect(await readFile(join(dir, ...first.split('/'), MARKER_FILE), 'utf8')).toBe(markerBefore);
  expect(await unconfirmed()).toEqual([]);
  expect(violations).toEqual([]);
});

test('a marker that no longer matches the files (one deleted) makes the instance download again before it is confirmed', async () => {
  const dir = join(root, 'damaged');
  const id = await stack.submitReturn('50041', 250_000, [pdf(3000)]);
  const crashed = await syncWith(dir, { failConfirmOf: new Set([id]) });
  expect(crashed.code).toBe(2);
  const folder = join(dir, ...id.split('/'));
  const receipt = (await readdir(folder)).find((name) => name.endsWith('.pdf')) as string;
  rmSync(join(folder, receipt));

  const rerun = await syncWith(dir);
  expect(rerun.code).toBe(0);
  expect(rerun.json<SyncReport>()).toMatchObject({ downloaded: 1, skipped: 0, confirmed: 1 });
  expect(await readdir(folder)).toContain(receipt);
  expect(violations).toEqual([]);
});
