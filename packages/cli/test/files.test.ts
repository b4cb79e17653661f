/** The atomic file writer and the config store, on a real filesystem. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConfigStore, defaultConfigDir, fileNames, removePartials, writeFileAtomic } from '../src';
import { sha256 } from './support/cli-harness';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'forms-cli-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  test('streams the content into place and reports size and sha256', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('world')];
    const progress: number[] = [];
    const result = await writeFileAtomic(join(dir, 'a.txt'), Readable.from(chunks), { onProgress: (bytes) => progress.push(bytes) });
    expect(result).toEqual({ path: join(dir, 'a.txt'), bytes: 11, sha256: sha256('hello world') });
    expect(progress).toEqual([6, 11]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello world');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  test('a failing source or a wrong hash or size leaves the old file untouched and no temp file behind', async () => {
    const target = join(dir, 'b.txt');
    writeFileSync(target, 'old');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(writeFileAtomic(target, failing)).rejects.toThrow('connection reset');
    await expect(writeFileAtomic(target, 'new', { expectedSha256: sha256('other') })).rejects.toThrow(/content hash/);
    await expect(writeFileAtomic(target, 'new', { expectedSize: 4 })).rejects.toThrow(/expected 4/);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['b.txt']);
    await writeFileAtomic(target, 'new', { expectedSha256: sha256('new'), expectedSize: 3 });
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  test('removePartials clears what a crashed write left', async () => {
    writeFileSync(join(dir, '.x.pdf.abc123.partial'), 'half');
    writeFileSync(join(dir, 'x.pdf'), 'whole');
    expect(await removePartials(dir)).toEqual(['.x.pdf.abc123.partial']);
    expect(readdirSync(dir)).toEqual(['x.pdf']);
  });
});

describe('ConfigStore', () => {
  test('reads nothing before the first write, then writes 0600 in a 0700 folder, merging updates', async () => {
    const store = new ConfigStore(join(dir, 'nested', 'forms-cli'));
    expect(await store.read()).toEqual({});
    await store.update({ authUrl: 'http://a', accessToken: 't', expiresAt: '2030-01-01T00:00:00.000Z' });
    await store.update({ accessToken: undefined, storageUrl: 'http://s' });
    expect(await store.read()).toEqual({ authUrl: 'http://a', expiresAt: '2030-01-01T00:00:00.000Z', storageUrl: 'http://s' });
    expect(await store.mode()).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
  });

  test('a broken file is an error naming it; defaults follow FORMS_CONFIG_DIR, else ~/.config/forms-cli', async () => {
    const store = new ConfigStore(dir);
    writeFileSync(store.path, '{ not json');
    await expect(store.read()).rejects.toThrow(store.path);
    expect(defaultConfigDir({ FORMS_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    expect(defaultConfigDir({ HOME: '/home/kari' })).toBe('/home/kari/.config/forms-cli');
  });
});

describe('fileNames', () => {
  const element = (id: string, dataType: string, contentType: string, filename?: string) =>
    ({ id, dataType, contentType, ...(filename !== undefined && { filename }) }) as Parameters<typeof fileNames>[0][number];

  test('own names made safe, data types with an extension, clashes told apart by id', () => {
    const names = fileNames([
      element('a', 'model', 'application/json'),
      element('b', 'receipt', 'application/pdf', '../../etc/passwd'),
      element('c', 'receipt', 'application/pdf', 'scan.pdf'),
      element('d', 'receipt', 'application/pdf', 'scan.pdf'),
      element('e', 'receipt', 'application/json', 'instance.json'),
      element('f', 'model', 'application/xml', 'model'),
    ]);
    expect([...names.values()]).toEqual(['model.json', '_.._etc_passwd', 'scan.pdf', 'scan-d.pdf', 'instance-e.json', 'model.xml']);
  });
});
