import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { uploadOverHttp } from '../support/http-transfer';
import { pseudoRandomStream } from '../support/streams';

// A full S3 store, as MinIO reports one: object and part writes answer 507 XMinioStorageFull. A proxy in front
// of s3rver plays the full drive (s3rver itself has no such state); everything else goes through to s3rver.
const MB = 1024 * 1024;
const FULL_ANSWER =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>XMinioStorageFull</Code><Message>Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.</Message></Error>';

let full = false;
let proxy: Server;
let h: StorageHarness;
let baseUrl: string;
let s3: S3Client;

beforeAll(async () => {
  const target = new URL(process.env.TEST_S3_ENDPOINT!);
  proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const objectWrite = req.method === 'PUT' && url.pathname.split('/').filter(Boolean).length > 1;
    if (full && objectWrite) {
      req.resume();
      res.writeHead(507, { 'content-type': 'application/xml' }).end(FULL_ANSWER);
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  h = await startStorage('mongo-s3', { S3_ENDPOINT: endpoint });
  await registerApp(h);
  baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});
afterAll(async () => {
  s3?.destroy();
  await h?.close();
  await new Promise((resolve) => proxy.close(resolve));
});

it.each([
  ['in one request', 1 * MB],
  ['in a multipart upload', 20 * MB],
])(
  'answers 507 STORAGE_FULL for an upload %s while the store is full, leaves nothing, and stores once there is room',
  async (_how, size) => {
    const instance = await createInstance(h);
    const upload = () =>
      uploadOverHttp(
        `${baseUrl}${API}/instances/${instance.id}/data?dataType=bigfile`,
        { ...h.auth.owner, 'content-type': 'application/octet-stream' },
        pseudoRandomStream(size, 9),
      );
    const Bucket = h.config.S3_BUCKET!;
    const objectsBefore = (await s3.send(new ListObjectsV2Command({ Bucket }))).KeyCount ?? 0;

    full = true;
    const refused = await upload();
    expect(refused.status).toBe(507);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'STORAGE_FULL' });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket }))).KeyCount ?? 0).toBe(objectsBefore);
    const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    expect(current.json().data).toEqual([]);

    full = false;
    const stored = await upload();
    expect(stored.status).toBe(201);
  },
  60_000,
);
