/**
 * `forms-cli app check`: an app folder checked as the app service checks it at start-up, without starting anything.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli-harness';

const ROOT = join(__dirname, '..', '..', '..');
let broken: string;

beforeAll(() => {
  broken = mkdtempSync(join(tmpdir(), 'forms-cli-app-check-'));
  cpSync(join(ROOT, 'apps', 'skd', 'tax-return'), broken, { recursive: true });
  rmSync(join(broken, 'process.json'));
  writeFileSync(join(broken, 'options', 'deduction-kinds.json'), JSON.stringify([{ value: 'a', label: 'A' }, { value: 'a', label: 'again' }]));
});
afterAll(() => rmSync(broken, { recursive: true, force: true }));

test('a valid folder, given relative to the folder the user is in: what the app service will serve', async () => {
  const result = await runCli(['app', 'check', 'skd/tax-return'], { cwd: join(ROOT, 'apps') });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('skd/tax-return: valid');
  expect(result.stdout).toContain('tasks: Task_1 (data), Task_2 (confirmation)');
  expect(result.stdout).toContain('code lists: deduction-kinds (4)');

  const json = (await runCli(['--json', 'app', 'check', join(ROOT, 'apps', 'skd', 'tax-return')])).json();
  expect(json).toMatchObject({
    id: 'skd/tax-return',
    dataTypes: expect.arrayContaining([{ id: 'model', kind: 'form', taskId: 'Task_1' }]),
    rules: ['calculate', 'instanceOptions', 'onInstantiate', 'options', 'validate'],
    codeLists: [{ id: 'deduction-kinds', options: 4 }],
  });
});

test('a broken folder: exit code 2 and every problem, as text or in the JSON error', async () => {
  const result = await runCli(['app', 'check', broken]);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('INVALID_APP_FOLDER');
  expect(result.stderr).toContain('no process: add process.json or process.bpmn');
  expect(result.stderr).toContain('options/deduction-kinds.json: option 1: value "a" is in the list twice');

  const json = await runCli(['--json', 'app', 'check', broken]);
  expect(json.code).toBe(2);
  const { error } = JSON.parse(json.stderr) as { error: { code: string; problems: string[] } };
  expect(error.code).toBe('INVALID_APP_FOLDER');
  expect(error.problems).toEqual(expect.arrayContaining([expect.stringContaining('no process'), expect.stringContaining('in the list twice')]));
});

test('a folder that is not there is a problem of the folder too', async () => {
  const result = await runCli(['app', 'check', join(broken, 'missing')]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('applicationmetadata.json: missing');
});
