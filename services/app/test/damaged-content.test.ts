/**
 * Damaged content end to end: storage cuts a download whose bytes differ from what was recorded, and the app,
 * streaming it on, cuts its own answer too, so a client of the app never gets wrong bytes with a clean end.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataElement } from '@forms/contracts';
import { downloadOverHttp } from '../../storage/test/support/http-transfer';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance } from './support/fixtures';

let h: AppHarness;
let appUrl: string;
beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  appUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h.close());

test('an attachment with a flipped byte reaches the app client cut short, and is marked damaged in storage', async () => {
  const owner = h.storage.auth.owner;
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2 * 1024 * 1024, 0x41), Buffer.from('\n%%EOF\n')]);
  const uploaded = await h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
    headers: { ...owner, 'content-type': 'application/pdf' },
    payload: content,
  });
  expect(uploaded.statusCode).toBe(201);
  const element = uploaded.json<DataElement>();
  const url = `${appUrl}${h.base}/instances/${instance.id}/data/${element.id}`;
  expect(await downloadOverHttp(url, owner)).toMatchObject({ status: 200, complete: true, size: content.length });

  const file = join(h.storage.config.DATA_DIR, 'blobs', ...element.blobStoragePath.split('/'));
  const stored = await readFile(file);
  stored[1024 * 1024] = 0x42;
  await writeFile(file, stored);

  const download = await downloadOverHttp(url, owner);
  expect(download.status).toBe(200);
  expect(download.complete).toBe(false);
  expect(download.size).toBeLessThan(content.length);

  let marked: DataElement | undefined;
  for (let attempt = 0; attempt < 50 && !marked?.damaged; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const current = await h.storage.app.inject({ method: 'GET', url: `/storage/api/v1/instances/${instance.id}`, headers: owner });
    marked = current.json<{ data: DataElement[] }>().data.find((d) => d.id === element.id);
  }
  expect(marked?.damaged).toMatchObject({ reason: 'sha256 differs from the recorded contentHash' });
});
