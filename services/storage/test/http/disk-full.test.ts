import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataElement } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { downloadOverHttp, uploadOverHttp } from '../support/http-transfer';
import { pseudoRandomStream, sha256Of } from '../support/streams';

// A real full disk: the blob folder is a 16 MB tmpfs, mounted here. Mounting needs root (as on this
// project's machines and CI); where the mount is refused the suite is skipped and says so.
const dataDir = mkdtempSync(join(tmpdir(), 'storage-disk-full-'));
const blobRoot = join(dataDir, 'blobs');
mkdirSync(blobRoot);
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', blobRoot], { stdio: 'ignore' });
  mounted = true;
} catch {
  console.warn('disk-full.test: cannot mount a tmpfs (needs root); skipped');
}

const MB = 1024 * 1024;
const fillerPath = join(blobRoot, 'filler');

/** Writes until the filesystem refuses: afterwards not even 4 KiB fit. */
async function fillDisk(): Promise<void> {
  const file = await open(fillerPath, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close();
  }
  // Whatever is left is smaller than one chunk: fill it byte-wise in small steps.
  const rest = await open(fillerPath, 'a');
  try {
    for (;;) await rest.write(Buffer.alloc(512, 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await rest.close();
  }
}

(mounted ? describe : describe.skip)('a full blob disk', () => {
  let h: StorageHarness;
  let baseUrl: string;
  beforeAll(async () => {
    h = await startStorage('embedded', { DATA_DIR: dataDir });
    await registerApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
    execFileSync('umount', [blobRoot]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const upload = (instanceId: string, size: number, seed: number) =>
    uploadOverHttp(
      `${baseUrl}${API}/instances/${instanceId}/data?dataType=bigfile`,
      { ...h.auth.owner, 'content-type': 'application/octet-stream' },
      pseudoRandomStream(size, seed),
    );

  it('answers 507 STORAGE_FULL, leaves nothing half-written, shows on /ready, and recovers by itself once space returns', async () => {
    const instance = await createInstance(h);
    await fillDisk();

    const ready = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.blobs).toMatch(/full/i);
    expect(ready.json().checks.metadata).toBe('ok');

    const refused = await upload(instance.id, 2 * MB, 1);
    expect(refused.status).toBe(507);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 507, code: 'STORAGE_FULL', title: 'Insufficient Storage' });
    const after = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    expect(after.json().data).toEqual([]);
    expect(await readdir(join(blobRoot, '.incoming'))).toEqual([]);
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
    // Reads still work on a full disk.
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);

    await rm(fillerPath);

    expect((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const stored = await upload(instance.id, 2 * MB, 1);
    expect(stored.status).toBe(201);
    const element = JSON.parse(stored.body) as DataElement;
    const download = await downloadOverHttp(`${baseUrl}${API}/instances/${instance.id}/data/${element.id}`, h.auth.owner);
    expect(download).toMatchObject({ status: 200, complete: true, hash: (await sha256Of(pseudoRandomStream(2 * MB, 1))).hash });
  });
});
