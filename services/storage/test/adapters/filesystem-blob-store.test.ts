import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemBlobStore, InvalidBlobKeyError } from '../../src/adapters/blobs/filesystem-blob-store';
import { describeBlobStoreLeftoversContract } from '../contract/blob-store-leftovers.contract';
import { describeBlobStoreContract, newKey, seededBytes } from '../contract/blob-store.contract';

let workDirectory: string;
let rootDirectory: string;

beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'filesystem-blob-store-'));
  // A folder that does not exist yet, so init() has to create it.
  rootDirectory = join(workDirectory, 'blobs');
});

afterAll(async () => {
  await rm(workDirectory, { recursive: true, force: true });
});

describeBlobStoreContract('FilesystemBlobStore', () => new FilesystemBlobStore(rootDirectory));
describeBlobStoreLeftoversContract('FilesystemBlobStore', () => ({ writer: new FilesystemBlobStore(rootDirectory), other: new FilesystemBlobStore(rootDirectory) }));

describe('FilesystemBlobStore', () => {
  let store: FilesystemBlobStore;

  beforeAll(async () => {
    store = new FilesystemBlobStore(rootDirectory);
    await store.init();
  });

  describe('rejects keys that could leave the root', () => {
    it.each([
      ['parent segment', '../outside'],
      ['parent segment in the middle', 'ttd/app/../../../outside'],
      ['absolute path', '/etc/passwd'],
      ['backslash', 'ttd\\..\\outside'],
      ['empty segment', 'ttd//outside'],
      ['trailing slash', 'ttd/app/'],
      ['current-folder segment', 'ttd/./outside'],
      ['hidden segment, reserved for temp files', 'ttd/.outside'],
      ['empty key', ''],
      ['NUL character', 'ttd/out\0side'],
    ])('%s: %j', async (_description, key) => {
      await expect(store.put(key, Readable.from([Buffer.from('x')]), { contentType: 'text/plain' })).rejects.toBeInstanceOf(
        InvalidBlobKeyError,
      );
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.stat(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    });

    it('writes nothing outside the root', async () => {
      await store.put('../outside', Readable.from([Buffer.from('x')]), { contentType: 'text/plain' }).catch(() => undefined);
      expect(await readdir(workDirectory)).toEqual(['blobs']);
    });

    it('destroys the body of a rejected put', async () => {
      const body = Readable.from([Buffer.from('x')]);
      await store.put('../outside', body, { contentType: 'text/plain' }).catch(() => undefined);
      expect(body.destroyed).toBe(true);
    });
  });

  /** Puts in progress write into `.incoming` below the root; nothing may stay there after a put. */
  const incoming = () => readdir(join(rootDirectory, '.incoming'));

  it('leaves no temp file behind when the body fails', async () => {
    const key = newKey();
    const bodyError = new Error('body failed on purpose');
    await expect(
      store.put(key, seededBytes(1, 1024 * 1024, { failAfterBytes: 256 * 1024, error: bodyError }), {
        contentType: 'application/octet-stream',
      }),
    ).rejects.toBe(bodyError);

    expect(await incoming()).toEqual([]);
    await expect(store.stat(key)).resolves.toBeNull();
  });

  it('leaves no temp file behind after a successful put', async () => {
    const key = newKey();
    await store.put(key, seededBytes(2, 1000), { contentType: 'application/octet-stream' });

    const folder = join(rootDirectory, ...key.split('/').slice(0, -1));
    expect(await readdir(folder)).toEqual([key.split('/').at(-1)]);
    expect(await incoming()).toEqual([]);
  });

  it('removes, on its first sweep, temp files earlier versions left beside their blobs (.<name>.<uuid>.tmp)', async () => {
    const fresh = new FilesystemBlobStore(join(workDirectory, 'legacy'));
    await fresh.init();
    const key = newKey();
    await fresh.put(key, seededBytes(7, 100), { contentType: 'application/octet-stream' });
    const folder = join(workDirectory, 'legacy', ...key.split('/').slice(0, -1));
    const name = key.split('/').at(-1)!;
    const leftover = join(folder, `.${name}.${randomUUID()}.tmp`);
    const recent = join(folder, `.${name}.${randomUUID()}.tmp`);
    await writeFile(leftover, Buffer.alloc(5000));
    await writeFile(recent, Buffer.alloc(5000));
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(leftover, anHourAgo, anHourAgo);

    expect(await fresh.removeAbandonedUploads(new Date(Date.now() - 600_000))).toBe(1);
    expect((await readdir(folder)).sort()).toEqual([basename(recent), name].sort());
    await expect(fresh.stat(key)).resolves.toEqual({ size: 100 });
  });

  it('removes a temp file a crash left, once it is older than the cut-off, and keeps a fresh one', async () => {
    const crashed = join(rootDirectory, '.incoming', `${'a'.repeat(64)}.${randomUUID()}.tmp`);
    const fresh = join(rootDirectory, '.incoming', `${'b'.repeat(64)}.${randomUUID()}.tmp`);
    await writeFile(crashed, Buffer.alloc(1000));
    await writeFile(fresh, Buffer.alloc(1000));
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(crashed, anHourAgo, anHourAgo);

    expect(await store.removeAbandonedUploads(new Date(Date.now() - 600_000))).toBe(1);
    expect((await incoming()).sort()).toEqual([basename(fresh)]);
    await rm(fresh);
  });

  it('treats a folder as no blob', async () => {
    const key = newKey();
    await store.put(key, seededBytes(3, 10), { contentType: 'application/octet-stream' });
    const folderKey = key.split('/').slice(0, -1).join('/');

    await expect(store.get(folderKey)).resolves.toBeNull();
    await expect(store.stat(folderKey)).resolves.toBeNull();
  });

  it('treats a key below an existing blob as missing', async () => {
    const key = newKey();
    await store.put(key, seededBytes(4, 10), { contentType: 'application/octet-stream' });

    await expect(store.get(`${key}/below`)).resolves.toBeNull();
    await expect(store.stat(`${key}/below`)).resolves.toBeNull();
    await expect(store.delete(`${key}/below`)).resolves.toBeUndefined();
  });

  describe('ping', () => {
    it('rejects when the root does not exist', async () => {
      await expect(new FilesystemBlobStore(join(workDirectory, 'missing')).ping()).rejects.toThrow();
    });

    it('rejects when the root is a file', async () => {
      const filePath = join(workDirectory, 'not-a-folder');
      await writeFile(filePath, 'x');
      try {
        await expect(new FilesystemBlobStore(filePath).ping()).rejects.toThrow(/not a directory/);
      } finally {
        await rm(filePath);
      }
    });
  });
});
