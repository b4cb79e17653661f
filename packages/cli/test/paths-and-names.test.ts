/**
 * Where forms-cli reads and writes: relative paths resolve against the folder the user is in, also through the
 * repository's npm script called from outside the repository and through the bin; `data download` without
 * --out names the file after the data element (made safe) in that folder; an empty list says so.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppClient } from '@forms/client';
import type { DataElement, Instance } from '@forms/contracts';
import { elementFileName, safeFileName, userFolder } from '../src';
import { pdf, runCli, sha256, sha256OfFile, startTaxReturns, type TaxReturnStack } from './support/cli-harness';

const ROOT = join(__dirname, '..', '..', '..');
const PERSON = '50001';

let stack: TaxReturnStack;
let person: string;
let outside: string;
let instance: Instance;

beforeAll(async () => {
  stack = await startTaxReturns();
  person = stack.personToken(PERSON);
  outside = mkdtempSync(join(tmpdir(), 'forms-cli-paths-'));
  const app = new AppClient({ baseUrl: stack.appUrl, appId: 'skd/tax-return', token: person });
  instance = await app.createInstance({}, { partyId: PERSON });
});
afterAll(async () => {
  await stack.close();
  rmSync(outside, { recursive: true, force: true });
});

/** The process environment without what npm, pnpm and jest set, plus the CLI's own variables. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(npm_|pnpm_|INIT_CWD$|FORMS_|JEST_)/i.test(name)) env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', FORMS_CONFIG_DIR: join(outside, 'config'), FORMS_STORAGE_URL: stack.storageUrl, FORMS_APP_URL: stack.appUrl, ...extra };
}

/** Runs `command args` in `cwd` as a user would; resolves with exit code and output (never rejects on a non-zero exit). */
async function spawn(command: string, args: string[], cwd: string, env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, env, timeout: 60_000 });
    return { code: 0, stdout, stderr: withoutNpmWarnings(stderr) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: withoutNpmWarnings(failed.stderr ?? '') };
  }
}

/** npm's own warnings about the machine's npm configuration are not the CLI's output. */
const withoutNpmWarnings = (stderr: string) => stderr.replace(/^npm warn .*\n/gim, '');

/** `npm --prefix <repository> run -s forms -- …`, from `cwd`. */
const npmForms = (args: string[], cwd: string, env: Record<string, string>) => spawn('npm', ['--prefix', ROOT, 'run', '-s', 'forms', '--', ...args], cwd, cleanEnv(env));

describe('relative paths are the user’s, not the repository’s', () => {
  test('npm run forms from outside the repository: --file ../scan.pdf uploads, data download without --out lands in the current folder', async () => {
    const work = join(outside, 'work');
    mkdirSync(work);
    const scan = pdf(20_000);
    writeFileSync(join(outside, 'scan.pdf'), scan);

    const upload = await npmForms(['data', 'upload', '--app', 'skd/tax-return', '--instance', instance.id, '--type', 'receipt', '--file', '../scan.pdf', '--json'], work, {
      FORMS_TOKEN: person,
    });
    expect(upload.stderr).toBe('');
    expect(upload.code).toBe(0);
    const element = JSON.parse(upload.stdout) as DataElement;
    expect(element).toMatchObject({ filename: 'scan.pdf', size: scan.length, contentHash: sha256(scan) });

    const download = await npmForms(['data', 'download', '--instance', instance.id, '--data-id', element.id], work, { FORMS_TOKEN: person });
    expect(download.stderr).toBe('');
    expect(download.code).toBe(0);
    expect(download.stdout).toBe(`Saved ${scan.length} bytes to ${join(work, 'scan.pdf')} (sha256 ${sha256(scan)})\n`);
    expect(await sha256OfFile(join(work, 'scan.pdf'))).toBe(sha256(scan));
    expect(readdirSync(work)).toEqual(['scan.pdf']);
    expect(existsSync(join(ROOT, 'scan.pdf'))).toBe(false);
    expect(existsSync(join(ROOT, element.id))).toBe(false);
  }, 90_000);

  test('sync --dir archive, through the bin run by node from outside the repository, writes below the current folder', async () => {
    const id = await stack.submitReturn('50002', 400_000, [pdf(3000)]);
    const work = join(outside, 'cron');
    mkdirSync(work);
    const bin = join(ROOT, 'packages', 'cli', 'bin', 'forms.cjs');
    const result = await spawn(process.execPath, [bin, 'sync', '--app', 'skd/tax-return', '--dir', 'archive', '--json'], work, cleanEnv({ FORMS_TOKEN: stack.skd }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ downloaded: 1, confirmed: 1 });
    expect(readdirSync(join(work, 'archive', ...id.split('/'))).sort()).toEqual(['.synced.json', 'instance.json', 'model.json', 'receipt-1.pdf']);
    expect(existsSync(join(ROOT, 'archive'))).toBe(false);
  }, 60_000);

  test('the launch folder is INIT_CWD only when the repository’s own forms script runs', () => {
    const script = { npm_lifecycle_event: 'forms', npm_package_name: 'forms-platform', INIT_CWD: '/home/kari/apps' };
    expect(userFolder(script, '/repo')).toBe('/home/kari/apps');
    expect(userFolder({ ...script, npm_lifecycle_event: 'archive' }, '/repo')).toBe('/repo');
    expect(userFolder({ ...script, npm_package_name: 'someone-elses' }, '/repo')).toBe('/repo');
    expect(userFolder({ npm_lifecycle_event: 'forms', npm_package_name: 'forms-platform' }, '/repo')).toBe('/repo');
    expect(userFolder({}, '/somewhere')).toBe('/somewhere');
  });
});

describe('data download names the file after the data element', () => {
  const env = () => ({ FORMS_TOKEN: person, FORMS_STORAGE_URL: stack.storageUrl, FORMS_APP_URL: stack.appUrl });

  test('a hostile filename loses its separators, control and bidi characters; form data is <dataType>.json', async () => {
    const app = new AppClient({ baseUrl: stack.appUrl, appId: 'skd/tax-return', token: person });
    const content = pdf(4000);
    const hostile = '..\\..\\evil\u202Efdp.exe\u0007 bill.pdf';
    const element = await app.uploadAttachment(instance.id, 'receipt', content, { contentType: 'application/pdf', filename: hostile });
    // The app and storage drop control and bidi characters themselves now; the CLI must still not trust a name.
    expect(element.filename).not.toContain('\u202E');
    const folder = mkdtempSync(join(outside, 'names-'));

    const result = await runCli(['data', 'download', '--instance', instance.id, '--data-id', element.id, '--json'], { env: env(), cwd: folder });
    expect(result.stderr).toBe('');
    const saved = result.json<{ path: string }>();
    expect(readdirSync(folder)).toEqual(['_.._evilfdp.exe bill.pdf']);
    expect(saved.path).toBe(join(folder, '_.._evilfdp.exe bill.pdf'));
    expect(await sha256OfFile(saved.path)).toBe(sha256(content));

    const model = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const form = await runCli(['data', 'download', '--instance', instance.id, '--data-id', model.id], { env: env(), cwd: folder });
    expect(form.code).toBe(0);
    expect(readdirSync(folder).sort()).toEqual(['_.._evilfdp.exe bill.pdf', 'model.json']);
  });

  test('an unknown data element without --out exits 2 and writes nothing', async () => {
    const folder = mkdtempSync(join(outside, 'unknown-'));
    const result = await runCli(['data', 'download', '--instance', instance.id, '--data-id', '00000000-0000-4000-8000-000000000000'], { env: env(), cwd: folder });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^forms-cli: DATA_ELEMENT_NOT_FOUND: /);
    expect(readdirSync(folder)).toEqual([]);
  });

  test('safe names: only the characters any file system takes, never a path', () => {
    expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFileName('C:\\Windows\\win.ini')).toBe('C__Windows_win.ini');
    expect(safeFileName('invoice\u202Efdp.exe')).toBe('invoice_fdp.exe');
    expect(safeFileName('line\nbreak\u0000.pdf')).toBe('line_break_.pdf');
    expect(safeFileName('...')).toBeUndefined();
    expect(safeFileName('')).toBeUndefined();
    expect(safeFileName(`${'a'.repeat(300)}.pdf`)).toHaveLength(100);
    expect(elementFileName({ filename: 'scan', dataType: 'receipt', contentType: 'application/pdf' })).toBe('scan.pdf');
    expect(elementFileName({ dataType: 'model', contentType: 'application/json' })).toBe('model.json');
    expect(elementFileName({ filename: '..', dataType: '../x', contentType: 'application/octet-stream' })).toBe('_x');
  });
});

describe('an empty list says so', () => {
  test('text: "no instances" (on stderr, stdout stays one line per instance); --json: an empty instances array', async () => {
    const env = { FORMS_TOKEN: stack.skd, FORMS_STORAGE_URL: stack.storageUrl };
    const query = ['instances', 'list', '--app', 'skd/tax-return', '--party', '59999'];
    for (const extra of [[], ['--all']]) {
      const text = await runCli([...query, ...extra], { env });
      expect({ extra, code: text.code, stdout: text.stdout, stderr: text.stderr }).toEqual({ extra, code: 0, stdout: '', stderr: 'no instances\n' });
      const json = await runCli([...query, ...extra, '--json'], { env });
      expect(json.stderr).toBe('');
      expect(json.json()).toMatchObject({ count: 0, instances: [] });
    }
  });
});
