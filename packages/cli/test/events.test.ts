/**
 * `forms-cli events tail` and `forms-cli sync --follow` against the real app service of skd/tax-return, storage
 * and the events service relaying storage's feed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARKER_FILE } from '../src';
import { startEvents, type EventsHarness } from '../../../services/events/test/support/events-harness';
import { runCli, startTaxReturns, type TaxReturnStack } from './support/cli-harness';
import { eventually } from '@forms/test-support';

let stack: TaxReturnStack;
let events: EventsHarness;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTaxReturns();
  events = await startEvents({ issuer: stack.h.storage.issuer, storageUrl: stack.storageUrl });
  dir = mkdtempSync(join(tmpdir(), 'forms-events-'));
  env = { FORMS_CONFIG_DIR: join(dir, '.config'), FORMS_STORAGE_URL: stack.storageUrl, FORMS_EVENTS_URL: `${events.baseUrl}/events/api/v1`, FORMS_TOKEN: stack.skd };
});
afterAll(async () => {
  await events?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const folderOf = (instanceId: string) => join(dir, 'archive', ...instanceId.split('/'));

test('events tail prints an instance\'s events in order, as JSON lines with --json, and resumes after a sequence', async () => {
  const id = await stack.submitReturn('50021', 300_000);
  const tail = await runCli(['events', 'tail', '--app', 'skd/tax-return', '--count', '3', '--poll-ms', '50', '--json'], { env });
  expect(tail.code).toBe(0);
  const lines = tail.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; source: string; sequence: string });
  expect(lines.map((e) => e.type)).toEqual(['app.instance.created', 'app.instance.process.movedTo.Task_2', 'app.instance.process.completed']);
  expect(lines.every((e) => e.source.endsWith(id))).toBe(true);

  const resumed = await runCli(['events', 'tail', '--app', 'skd/tax-return', '--after', lines[1]!.sequence, '--count', '1', '--poll-ms', '50'], { env });
  expect(resumed.stdout).toMatch(new RegExp(`^${lines[2]!.sequence} \\S+ app.instance.process.completed /party/50021 \\S+${id}\\n$`));
  expect((await runCli(['events', 'tail', '--app', 'not an app'], { env })).code).toBe(1);
});

test('sync --follow downloads what is completed, then each newly completed instance as its event arrives, until stopped', async () => {
  const first = await stack.submitReturn('50022', 100_000);
  const stop = new AbortController();
  const running = runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'archive'), '--follow', '--poll-ms', '50'], { env, signal: stop.signal });
  await eventually(() => existsSync(join(folderOf(first), MARKER_FILE)), { timeoutMs: 15_000, what: 'the first marker file' });
  const second = await stack.submitReturn('50023', 120_000);
  await eventually(() => existsSync(join(folderOf(second), MARKER_FILE)), { timeoutMs: 15_000, what: 'the second marker file' });
  stop.abort();
  const result = await running;
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`confirmed ${first}`);
  expect(result.stdout).toContain(`confirmed ${second}`);
});
