import { setTimeout as sleep } from 'node:timers/promises';
import type { Instance } from '@forms/contracts';
import { listStoredBlobs, listUnfinishedUploads } from '../support/blob-listing';
import { stallUpload } from '../support/http-transfer';
import { createInstance, instanceUrl, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

const MB = 1024 * 1024;

/**
 * A client that stops sending in the middle of an upload (a dead line, or a slowloris) loses its connection after
 * IDLE_TIMEOUT_SECONDS of silence, and storage lets go of everything the upload had begun: nothing recorded, no blob,
 * no pending upload, no unfinished S3 multipart upload (9 MiB sent: past the first 8 MiB part).
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('an upload that stops half-way (%s)', (adapters) => {
  let h: StorageHarness;
  let baseUrl: string;
  beforeAll(async () => {
    h = await startStorage(adapters, { IDLE_TIMEOUT_SECONDS: '1' });
    await registerApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => h.close());

  const leftovers = async (instance: Instance) => ({
    elements: (await h.app.storage.context.store.instances.get(instance.id.split('/')[1]!))?.data.length,
    blobs: await listStoredBlobs(h.config, `${instance.appId}/${instance.id.split('/')[1]}/`),
    pendingUploads: await h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100),
    unfinishedS3Uploads: await listUnfinishedUploads(h.config),
  });

  it('closes the connection after a second of silence and keeps nothing of the upload', async () => {
    const instance = await createInstance(h);
    const headers = { ...viaApp(h, h.auth.owner), 'content-type': 'application/octet-stream' };
    const closedAfter = await stallUpload(`${baseUrl}${instanceUrl(instance)}/data?dataType=bigfile`, headers, 20 * MB, Buffer.alloc(9 * MB, 7));
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(900);

    // The route cleans up once it sees the body end unfinished; give it a moment.
    const nothing = { elements: 0, blobs: [], pendingUploads: [], unfinishedS3Uploads: [] };
    for (let i = 0; i < 100 && JSON.stringify(await leftovers(instance)) !== JSON.stringify(nothing); i++) await sleep(100);
    expect(await leftovers(instance)).toEqual(nothing);
  }, 30_000);
});
