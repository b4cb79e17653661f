import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { DataElement } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { pseudoRandomStream, sha256Of } from '../support/streams';

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

/** Samples RSS while `work` runs; returns the peak growth over the level before it started. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
}

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
  const answer = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
    const req = request(`${baseUrl}${instanceUrl(instance)}/data?dataType=attachment`, {
      method: 'POST',
      headers: { ...h.auth.owner, 'content-type': 'application/pdf' },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        // Stop sending: the answer is in, and the server would otherwise read the rest to discard it.
        req.destroy();
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('error', reject);
    // A PDF's head, so the content check lets it pass and the size limit is what trips.
    req.write('%PDF-1.7\n');
    pseudoRandomStream(20 * 1024 * 1024, 7).pipe(req);
  });
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'DATA_TOO_LARGE' });
  const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
  expect(current.json().data).toEqual([]);
  expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
});
