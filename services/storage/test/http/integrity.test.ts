import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DataElement, Instance } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type AdapterSet, type StorageHarness } from '../support/storage-harness';
import { downloadOverHttp, uploadOverHttp } from '../support/http-transfer';
import { pseudoRandomStream, sha256 } from '../support/streams';

const SIZE = 3 * 1024 * 1024 + 17;

/** Changes stored content behind storage's back: on disk for the filesystem store, in the bucket for S3. */
interface Tamperer {
  read(path: string): Promise<Buffer>;
  write(path: string, content: Buffer): Promise<void>;
  remove(path: string): Promise<void>;
  close(): void;
}

function tamperer(h: StorageHarness, adapters: AdapterSet): Tamperer {
  if (adapters === 'embedded') {
    const file = (path: string) => join(h.config.DATA_DIR, 'blobs', ...path.split('/'));
    return {
      read: (path) => readFile(file(path)),
      write: (path, content) => writeFile(file(path), content),
      remove: (path) => rm(file(path)),
      close: () => undefined,
    };
  }
  const s3 = new S3Client({
    endpoint: process.env.TEST_S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const Bucket = h.config.S3_BUCKET!;
  return {
    read: async (Key) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray()),
    write: async (Key, Body) => {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.length }));
    },
    remove: async (Key) => {
      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    },
    close: () => s3.destroy(),
  };
}

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('integrity on read (%s)', (adapters) => {
  let h: StorageHarness;
  let baseUrl: string;
  let blobs: Tamperer;
  beforeAll(async () => {
    h = await startStorage(adapters);
    await registerApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
    blobs = tamperer(h, adapters);
  });
  afterAll(async () => {
    blobs?.close();
    await h.close();
  });

  async function uploaded(): Promise<{ instance: Instance; element: DataElement; url: string }> {
    const instance = await createInstance(h);
    const answer = await uploadOverHttp(
      `${baseUrl}${instanceUrl(instance)}/data?dataType=bigfile`,
      { ...h.auth.owner, 'content-type': 'application/octet-stream' },
      pseudoRandomStream(SIZE, 5),
    );
    expect(answer.status).toBe(201);
    const element = JSON.parse(answer.body) as DataElement;
    return { instance, element, url: `${baseUrl}${API}/instances/${instance.id}/data/${element.id}` };
  }

  async function elementNow(instance: Instance, id: string): Promise<DataElement> {
    const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    return current.json<Instance>().data.find((d) => d.id === id)!;
  }

  it('serves intact content whole, with a clean end', async () => {
    const { element, url } = await uploaded();
    const download = await downloadOverHttp(url, h.auth.owner);
    expect(download).toMatchObject({ status: 200, complete: true, size: SIZE, hash: element.contentHash });
  });

  it.each([
    ['in the first byte', 0],
    ['in the middle', 1024 * 1024 + 5],
    ['in the last byte', SIZE - 1],
  ])('cuts a download short when a byte was flipped %s, and marks the element damaged', async (_where, offset) => {
    const { instance, element, url } = await uploaded();
    const content = await blobs.read(element.blobStoragePath);
    content[offset] = (content[offset] as number) ^ 0xff;
    await blobs.write(element.blobStoragePath, content);

    const download = await downloadOverHttp(url, h.auth.owner);
    expect(download.status).toBe(200);
    expect(download.complete).toBe(false);
    expect(download.size).toBeLessThan(SIZE);
    expect(download.hash).not.toBe(sha256(content));

    const marked = await waitForMark(() => elementNow(instance, element.id));
    expect(marked.damaged).toMatchObject({ reason: expect.stringContaining('sha256') });
    expect(Date.parse(marked.damaged!.detected)).not.toBeNaN();
  });

  it('refuses a truncated blob before sending a byte, whole or any range, and marks the element damaged', async () => {
    const { instance, element, url } = await uploaded();
    if (adapters === 'embedded') {
      await truncate(join(h.config.DATA_DIR, 'blobs', ...element.blobStoragePath.split('/')), SIZE - 1000);
    } else {
      await blobs.write(element.blobStoragePath, (await blobs.read(element.blobStoragePath)).subarray(0, SIZE - 1000));
    }

    const whole = await downloadOverHttp(url, h.auth.owner);
    expect(whole.status).toBe(500);
    expect(JSON.parse(whole.text)).toMatchObject({ code: 'DATA_CONTENT_DAMAGED' });
    for (const wanted of ['bytes=0-99', `bytes=${SIZE - 100}-`]) {
      const range = await downloadOverHttp(url, { ...h.auth.owner, range: wanted });
      expect(range.status).toBe(500);
      expect(JSON.parse(range.text)).toMatchObject({ code: 'DATA_CONTENT_DAMAGED' });
    }

    const marked = await waitForMark(() => elementNow(instance, element.id));
    expect(marked.damaged).toMatchObject({ reason: `size ${SIZE - 1000} != recorded ${SIZE}` });
  });

  it('answers for content gone from under its element (lost, or not in a restored backup) as damaged, and marks it', async () => {
    const { instance, element, url } = await uploaded();
    await blobs.remove(element.blobStoragePath);

    const download = await downloadOverHttp(url, h.auth.owner);
    expect(download.status).toBe(500);
    expect(JSON.parse(download.text)).toMatchObject({ code: 'DATA_CONTENT_DAMAGED', detail: expect.stringContaining('(no stored content)') });
    const marked = await waitForMark(() => elementNow(instance, element.id));
    expect(marked.damaged).toMatchObject({ reason: 'no stored content' });
  });

  it('clears the mark when the content is replaced', async () => {
    const { instance, element, url } = await uploaded();
    const content = await blobs.read(element.blobStoragePath);
    await blobs.write(element.blobStoragePath, content.subarray(1));
    expect((await downloadOverHttp(url, h.auth.owner)).status).toBe(500);
    const marked = await waitForMark(() => elementNow(instance, element.id));

    const replaced = await uploadOverHttp(
      `${baseUrl}${instanceUrl(instance)}/data/${element.id}`,
      { ...h.auth.owner, 'content-type': 'application/octet-stream' },
      pseudoRandomStream(1000, 6),
      'PUT',
    );
    expect(replaced.status).toBe(200);
    expect(JSON.parse(replaced.body)).not.toHaveProperty('damaged');
    expect(marked.version).toBeLessThan((JSON.parse(replaced.body) as DataElement).version);
    expect(await downloadOverHttp(url, h.auth.owner)).toMatchObject({ status: 200, complete: true, size: 1000 });
  });
});

/** The mark is written beside the failing download; give it a moment. */
async function waitForMark(read: () => Promise<DataElement>): Promise<DataElement> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const element = await read();
    if (element.damaged) return element;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return read();
}
