/**
 * `forms-cli sync` as a real process, killed with SIGKILL in the middle of writing a file, then run again: the
 * instance is not confirmed while its files are incomplete, the temp file of the killed run is cleared away, and
 * the second run writes and confirms everything. Storage's answers pass through a slow proxy so the kill lands
 * mid-download.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy } from '@forms/test-support';
import { INSTANCE_FILE, MARKER_FILE } from '../src';
import { pdf, sha256OfFile, startTaxReturns, type TaxReturnStack } from './support/cli-harness';

const REPO_ROOT = join(__dirname, '..', '..', '..');
let stack: TaxReturnStack;
let proxy: FaultProxy;
let root: string;

beforeAll(async () => {
  stack = await startTaxReturns();
  proxy = await FaultProxy.start(stack.storageUrl);
  root = mkdtempSync(join(tmpdir(), 'forms-sync-sigkill-'));
}, 60_000);
afterAll(async () => {
  await proxy.stop();
  await stack.close();
  rmSync(root, { recursive: true, force: true });
});

function startSync(out: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), 'sync', '--app', 'skd/tax-return', '--dir', out], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: root, FORMS_CONFIG_DIR: join(root, '.config'), FORMS_STORAGE_URL: proxy.urlFor(stack.storageUrl), FORMS_TOKEN: stack.skd },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, exited };
}

const partialsIn = (folder: string) => (existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.partial')) : []);
/** The temp file of the receipt (2 MB, slowed by the proxy): the small form's may come and go between two looks. */
const receiptPartialIn = (folder: string) => partialsIn(folder).filter((name) => name.startsWith('.receipt-1.pdf.'));

test('SIGKILL mid-file: nothing confirmed, and the next run finishes the job', async () => {
  const receipt = pdf(2 * 1024 * 1024 - 1024);
  const id = await stack.submitReturn('50021', 300_000, [receipt]);
  const out = join(root, 'archive');
  const folder = join(out, ...id.split('/'));

  proxy.setMode({ kind: 'slow', chunkDelayMs: 20 });
  const first = startSync(out);
  // Kill the moment the receipt's temp file exists: the download is under way.
  const deadline = Date.now() + 60_000;
  while (receiptPartialIn(folder).length === 0) {
    if (Date.now() > deadline) throw new Error('the sync never started writing');
    if (first.child.exitCode !== null) throw new Error(`the sync ended before it was killed: ${(await first.exited).output}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  first.child.kill('SIGKILL');
  expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });

  // Killed mid-file: a temp file, no marker, and storage still waiting for the confirmation.
  expect(receiptPartialIn(folder)).toHaveLength(1);
  expect(existsSync(join(folder, MARKER_FILE))).toBe(false);
  expect((await stack.storage.getInstance(stack.skd, id)).value.completeConfirmations).toEqual([]);

  proxy.setMode({ kind: 'pass' });
  const second = startSync(out);
  const result = await second.exited;
  expect(result).toMatchObject({ code: 0, signal: null });
  const names = readdirSync(folder).sort();
  expect(partialsIn(folder)).toEqual([]);
  expect(names).toEqual(expect.arrayContaining([INSTANCE_FILE, MARKER_FILE, 'model.json', 'receipt-1.pdf']));
  expect(await sha256OfFile(join(folder, 'receipt-1.pdf'))).toBe((await stack.storage.getInstance(stack.skd, id)).value.data.find((d) => d.dataType === 'receipt')?.contentHash);
  expect((await stack.storage.getInstance(stack.skd, id)).value.completeConfirmations.map((c) => c.stakeholderId)).toEqual(['skd']);
}, 150_000);
