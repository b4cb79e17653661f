import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DataElement } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { peakRssGrowth, sendStreaming } from '@forms/test-support';
import { pseudoRandomStream, sha256Of } from '../support/streams';
import { blobPrefixOf, listStoredBlobs } from '../support/blob-listing';

const SIZE = 200 * 1024 * 1024;
const RSS_BUDGET = 64 * 1024 * 1024;

let h: StorageHarness;
let baseUrl: string;
beforeAll(async () => {
  h = await startStorage();
  await registerApp(h);
  baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h.close());

it('streams a 200 MB upload and download over HTTP with bounded memory', async () => {
  const instance = await createInstance(h);
  const expected = await sha256Of(pseudoRandomStream(SIZE, 42, 256 * 1024));

  const upload = await peakRssGrowth(
    () =>
      new Promise<DataElement>((resolve, reject) => {
        const req = request(`${baseUrl}${instanceUrl(instance)}/data?dataType=bigfile`, {
          method: 'POST',
          headers: { ...h.auth.owner, 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename=big.bin' },
        });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(body) as DataElement) : reject(new Error(`${res.statusCode} ${body}`))));
        });
        req.on('error', reject);
        pipeline(pseudoRandomStream(SIZE, 42, 256 * 1024), req).catch(reject);
      }),
  );
  expect(upload.result).toMatchObject({ size: SIZE, contentHash: expected.hash, filename: 'big.bin' });
  expect(upload.growth).toBeLessThan(RSS_BUDGET);

  const download = await peakRssGrowth(
    () =>
      new Promise<{ hash: string; size: number }>((resolve, reject) => {
        request(`${baseUrl}${API}/instances/${instance.id}/data/${upload.result.id}`, { headers: h.auth.owner }, (res) => {
          sha256Of(res).then(resolve, reject);
        })
          .on('error', reject)
          .end();
      }),
  );
  expect(download.result).toEqual(expected);
  expect(download.growth).toBeLessThan(RSS_BUDGET);
});

it('answers an oversize streamed upload with 413 over HTTP, while the client is still sending, and stores nothing', async () => {
  const instance = await createInstance(h);
  // The attachment type allows 1 MB. The client sends 4 MB of a 20 MB body, then nothing more until it has the
  // answer: a server that waited for the whole body would never answer, and the test fails.
  const answer = await sendStreaming({
    url: `${baseUrl}${instanceUrl(instance)}/data?dataType=attachment`,
    headers: { ...h.auth.owner, 'content-type': 'application/pdf' },
    contentLength: 20 * 1024 * 1024,
    // A PDF's head, so the content check lets it pass and the size limit is what trips.
    body: Readable.from(
      (async function* () {
        yield Buffer.from('%PDF-1.7\n');
        yield* pseudoRandomStream(20 * 1024 * 1024 - 9, 7);
      })(),
    ),
    holdAfter: 4 * 1024 * 1024,
  });
  expect(answer.status).toBe(413);
  expect(answer.sentBeforeAnswer).toBeLessThanOrEqual(4 * 1024 * 1024);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'DATA_TOO_LARGE' });
  const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
  expect(current.json().data).toEqual([]);
  expect(await listStoredBlobs(h.config, blobPrefixOf(instance))).toEqual([]);
  expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
});
