/**
 * `instances create`, `data upload` and `data download` against the real app service of nav/child-benefit
 * and its storage, with a person's token from FORMS_TOKEN.
 */
import { mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppClient } from '@forms/client';
import type { DataElement, Instance } from '@forms/contracts';
import { startApp, type AppHarness } from '../../../services/app/test/support/app-harness';
import { pdf, rawToken, runCli, sha256, sha256OfFile } from './support/cli-harness';

let h: AppHarness;
let root: string;
let env: Record<string, string>;
const year = new Date().getFullYear();

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  const appUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  root = mkdtempSync(join(tmpdir(), 'forms-cli-data-'));
  env = { FORMS_CONFIG_DIR: join(root, 'config'), FORMS_APP_URL: appUrl, FORMS_STORAGE_URL: h.storageUrl, FORMS_TOKEN: rawToken(h.storage.auth.owner) };
});
afterAll(async () => {
  await h.close();
  rmSync(root, { recursive: true, force: true });
});

const cli = (args: string[], options: { tty?: boolean; cwd?: string } = {}) => runCli(args, { env, ...options });

describe('create, upload, download', () => {
  let instance: Instance;
  const big = pdf(3 * 1024 * 1024);

  test('instances create sends XML form data and a proof in one request', async () => {
    const form = join(root, 'application.xml');
    writeFileSync(
      form,
      `<ChildBenefit><applicant><name>Kari</name><personNumber>01017012345</personNumber><monthlyIncome>60000</monthlyIncome></applicant>` +
        `<children><name>Lise</name><birthYear>${year - 4}</birthYear></children></ChildBenefit>`,
    );
    const proof = join(root, 'payslip.pdf');
    writeFileSync(proof, pdf(5000));
    const text = await cli(['instances', 'create', '--app', 'nav/child-benefit', '--data', `model=${form}`, '--data', `proof=${proof}`]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Created 50001\/[0-9a-f-]{36} \(task Task_1\)\n  (model|proof)  /);

    const json = await cli(['instances', 'create', '--app', 'nav/child-benefit', '--data', `model=${form}`, '--json']);
    instance = json.json<Instance>();
    const app = new AppClient({ baseUrl: env.FORMS_APP_URL as string, appId: 'nav/child-benefit', token: env.FORMS_TOKEN as string });
    const model = instance.data.find((d) => d.dataType === 'model') as DataElement;
    expect((await app.getFormData(instance.id, model.id)).value).toMatchObject({ monthlyBenefit: 1766, applicant: { monthlyIncome: 60_000 } });
  });

  test('data upload streams a 3 MB file with a progress line on a terminal', async () => {
    const file = join(root, 'big proof.pdf');
    writeFileSync(file, big);
    const result = await cli(['data', 'upload', '--app', 'nav/child-benefit', '--instance', instance.id, '--type', 'proof', '--file', file], { tty: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Uploading big proof\.pdf [\d.]+ (KB|MB) \/ 3\.0 MB \(\d+ %\)/);
    expect(result.stdout).toMatch(/^Uploaded big proof\.pdf as proof [0-9a-f-]{36} \(3145728 bytes\)\n$/);

    const json = await cli(['data', 'upload', '--app', 'nav/child-benefit', '--instance', instance.id, '--type', 'proof', '--file', file, '--filename', 'second.pdf', '--json'], {
      tty: true,
    });
    expect(json.stderr).toBe('');
    expect(json.json<DataElement>()).toMatchObject({ dataType: 'proof', filename: 'second.pdf', size: big.length, contentHash: sha256(big) });
  });

  test('data download streams to a temp file and renames it; the bytes are the uploaded ones', async () => {
    const { value: stored } = await new (await import('@forms/client')).StorageClient({ baseUrl: h.storageUrl }).getInstance(env.FORMS_TOKEN as string, instance.id);
    const element = stored.data.find((d) => d.filename === 'big proof.pdf') as DataElement;
    const folder = join(root, 'downloads');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);

    const named = await cli(['data', 'download', '--instance', instance.id, '--data-id', element.id, '--json'], { cwd: folder, tty: true });
    expect(named.stderr).toBe('');
    expect(named.json()).toEqual({ path: join(folder, 'big proof.pdf'), bytes: big.length, sha256: sha256(big), contentType: 'application/pdf' });
    expect(await sha256OfFile(join(folder, 'big proof.pdf'))).toBe(sha256(big));

    // Watch the folder (inotify): the bytes must be written under a temp name, and copy.pdf only appear by rename.
    const out = join(folder, 'copy.pdf');
    const events: Array<[string, string]> = [];
    const watcher = watch(folder, (eventType, filename) => events.push([eventType, String(filename)]));
    let text: Awaited<ReturnType<typeof cli>>;
    try {
      text = await cli(['data', 'download', '--instance', instance.id, '--data-id', element.id, '--out', out], { tty: true });
      // Let the last inotify events arrive.
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      watcher.close();
    }
    const partial = /^\.copy\.pdf\.[0-9a-f]+\.partial$/;
    const tempName = events.find(([, name]) => partial.test(name))?.[1];
    expect(tempName).toBeDefined();
    expect(events.filter(([type, name]) => type === 'change' && name === tempName).length).toBeGreaterThan(0);
    expect(events.filter(([, name]) => name === 'copy.pdf')).toEqual([['rename', 'copy.pdf']]);
    const appeared = events.findIndex(([, name]) => name === 'copy.pdf');
    expect(events.slice(appeared).some(([type, name]) => type === 'change' && name === tempName)).toBe(false);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/Downloading copy\.pdf .*\(\d+ %\)/);
    expect(await sha256OfFile(out)).toBe(sha256(big));
    expect(readdirSync(folder).sort()).toEqual(['big proof.pdf', 'copy.pdf']);
  });

  test('failures: an unknown data element exits 2 and writes nothing; bad arguments exit 1', async () => {
    const folder = mkdtempSync(join(root, 'empty-'));
    const unknown = await cli(['data', 'download', '--instance', instance.id, '--data-id', '00000000-0000-4000-8000-000000000000', '--out', join(folder, 'x')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^forms-cli: DATA_ELEMENT_NOT_FOUND: /);
    expect(readdirSync(folder)).toEqual([]);

    const notPdf = join(root, 'fake.pdf');
    writeFileSync(notPdf, 'MZ this is not a PDF');
    const refused = await cli(['data', 'upload', '--app', 'nav/child-benefit', '--instance', instance.id, '--type', 'proof', '--file', notPdf, '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { kind: 'unsupported_media_type', code: 'CONTENT_TYPE_MISMATCH' } });

    expect((await cli(['data', 'upload', '--app', 'nav/child-benefit', '--instance', 'nope', '--type', 'proof', '--file', notPdf])).code).toBe(1);
    expect((await cli(['data', 'upload', '--app', 'nav/child-benefit', '--instance', instance.id, '--type', 'proof', '--file', join(root, 'missing.pdf')])).code).toBe(1);
    expect((await cli(['instances', 'create', '--app', 'nav/child-benefit', '--data', 'model'])).code).toBe(1);
    expect((await cli(['instances', 'create', '--app', 'child-benefit'])).code).toBe(1);
    const noUrl = await runCli(['instances', 'create', '--app', 'nav/child-benefit'], { env: { ...env, FORMS_APP_URL: '' } });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/--app-url/);
  });

  test("form data that does not match the model exits 2 with the app's problem code", async () => {
    const form = join(root, 'invalid.json');
    writeFileSync(form, JSON.stringify({ applicant: { name: 'Kari' }, children: 'none' }));
    const result = await cli(['instances', 'create', '--app', 'nav/child-benefit', '--data', `model=${form}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^forms-cli: FORM_DATA_INVALID: /);
  });
});

describe('instances create --copy-from', () => {
  test("starts skd/tax-return's next return as a copy of an archived one; --copy-from with --data is a usage error", async () => {
    const taxReturn = await startApp('skd/tax-return', { storage: h.storage });
    try {
      const appUrl = await taxReturn.app.listen({ host: '127.0.0.1', port: 0 });
      const app = new AppClient({ baseUrl: appUrl, appId: 'skd/tax-return', token: env.FORMS_TOKEN as string });
      const source = await app.createInstanceWithPrefill({ instanceOwner: { partyId: '50001' }, prefill: { income: 400_000, taxYear: 2025 } });
      await app.nextProcess(source.id);
      await app.nextProcess(source.id);

      const copied = await cli(['instances', 'create', '--app', 'skd/tax-return', '--app-url', appUrl, '--copy-from', source.id]);
      expect(copied.stderr).toBe('');
      expect(copied.code).toBe(0);
      expect(copied.stdout).toMatch(new RegExp(`^Created 50001/[0-9a-f-]{36} as a copy of ${source.id} \\(task Task_1\\)\n  model  `));
      const copy = (await cli(['instances', 'create', '--app', 'skd/tax-return', '--app-url', appUrl, '--copy-from', source.id, '--json'])).json<Instance>();
      const model = copy.data.find((d) => d.dataType === 'model') as DataElement;
      // taxYear and income are excluded from copies (the app's copyInstanceSettings).
      expect((await app.getFormData(copy.id, model.id)).value).toEqual({ taxableIncome: 0, tax: 0 });

      const mixed = await cli(['instances', 'create', '--app', 'skd/tax-return', '--app-url', appUrl, '--copy-from', source.id, '--data', `model=${join(root, 'x.json')}`]);
      expect(mixed.code).toBe(1);
      expect(mixed.stderr).toMatch(/--copy-from/);
      expect((await cli(['instances', 'create', '--app', 'skd/tax-return', '--app-url', appUrl, '--copy-from', 'nope'])).code).toBe(1);
    } finally {
      await taxReturn.close();
    }
  });
});
