import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataElement } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { downloadOverHttp, uploadOverHttp } from '../support/http-transfer';
import { mountSmallDisk } from '../support/small-disk';
import { pseudoRandomStream, sha256Of } from '../support/streams';

// A real full disk: the blob folder is a 16 MB tmpfs, filled to the last byte.
const disk = mountSmallDisk(16, 'storage-disk-full');
const MB = 1024 * 1024;

(disk ? describe : describe.skip)('a full blob disk', () => {
  let h: StorageHarness;
  let baseUrl: string;
  beforeAll(async () => {
    h = await startStorage('embedded', { DATA_DIR: disk!.dataDir });
    await registerApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
    disk?.remove();
  });

  const upload = (instanceId: string, size: number, seed: number) =>
    uploadOverHttp(
      `${baseUrl}${API}/instances/${instanceId}/data?dataType=bigfile`,
      { ...h.auth.owner, 'content-type': 'application/octet-stream' },
      pseudoRandomStream(size, seed),
    );

  it('answers 507 STORAGE_FULL, leaves nothing half-written, shows on /ready, and recovers by itself once space returns', async () => {
    const instance = await createInstance(h);
    await disk!.fill();

    const ready = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.blobs).toMatch(/full/i);
    expect(ready.json().checks.metadata).toBe('ok');

    const refused = await upload(instance.id, 2 * MB, 1);
    expect(refused.status).toBe(507);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 507, code: 'STORAGE_FULL', title: 'Insufficient Storage' });
    const after = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    expect(after.json().data).toEqual([]);
    expect(await readdir(join(disk!.blobRoot, '.incoming'))).toEqual([]);
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
    // Reads still work on a full disk.
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);

    await disk!.free();

    expect((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const stored = await upload(instance.id, 2 * MB, 1);
    expect(stored.status).toBe(201);
    const element = JSON.parse(stored.body) as DataElement;
    const download = await downloadOverHttp(`${baseUrl}${API}/instances/${instance.id}/data/${element.id}`, h.auth.owner);
    expect(download).toMatchObject({ status: 200, complete: true, hash: (await sha256Of(pseudoRandomStream(2 * MB, 1))).hash });
  });
});
