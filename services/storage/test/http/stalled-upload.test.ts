import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import type { Instance } from '@forms/contracts';
import { listStoredBlobs } from '../support/blob-listing';
import { createInstance, instanceUrl, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

const MB = 1024 * 1024;

/**
 * A client that stops sending in the middle of an upload (a dead line, or a slowloris) loses its connection after
 * IDLE_TIMEOUT_SECONDS of silence, and storage lets go of everything the upload had begun: nothing recorded, no blob,
 * no pending upload, no unfinished S3 multipart upload (9 MiB sent: past the first 8 MiB part).
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('an upload that stops half-way (%s)', (adapters) => {
  let h: StorageHarness;
  let port: number;
  beforeAll(async () => {
    h = await startStorage(adapters, { IDLE_TIMEOUT_SECONDS: '1' });
    await registerApp(h);
    port = Number(new URL(await h.app.listen({ host: '127.0.0.1', port: 0 })).port);
  });
  afterAll(() => h.close());

  const unfinishedS3Uploads = async () => {
    if (adapters !== 'mongo-s3') return [];
    const s3 = new S3Client({
      endpoint: process.env.TEST_S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      return (await s3.send(new ListMultipartUploadsCommand({ Bucket: h.config.S3_BUCKET! }))).Uploads ?? [];
    } finally {
      s3.destroy();
    }
  };
  const leftovers = async (instance: Instance) => ({
    elements: (await h.app.storage.context.store.instances.get(instance.id.split('/')[1]!))?.data.length,
    blobs: await listStoredBlobs(h.config, `${instance.appId}/${instance.id.split('/')[1]}/`),
    pendingUploads: await h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100),
    unfinishedS3Uploads: await unfinishedS3Uploads(),
  });

  it('closes the connection after a second of silence and keeps nothing of the upload', async () => {
    const instance = await createInstance(h);
    const headers = { ...viaApp(h, h.auth.owner), 'content-type': 'application/octet-stream', 'content-length': String(20 * MB), host: 'storage' };
    const socket: Socket = connect(port, '127.0.0.1');
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    socket.on('error', () => undefined);
    socket.write(`POST ${instanceUrl(instance)}/data?dataType=bigfile HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.write(Buffer.alloc(9 * MB, 7), () => resolve()));
    const lastByte = Date.now();

    const closedAt = await Promise.race([closed, sleep(15_000).then(() => undefined)]);
    socket.destroy();
    expect(closedAt).toBeDefined();
    expect(closedAt! - lastByte).toBeGreaterThanOrEqual(900);

    // The route cleans up once it sees the body end unfinished; give it a moment.
    const nothing = { elements: 0, blobs: [], pendingUploads: [], unfinishedS3Uploads: [] };
    for (let i = 0; i < 100 && JSON.stringify(await leftovers(instance)) !== JSON.stringify(nothing); i++) await sleep(100);
    expect(await leftovers(instance)).toEqual(nothing);
  }, 30_000);
});
