import type { DataElement } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { listUnfinishedUploads } from '../support/blob-listing';
import { downloadOverHttp, uploadOverHttp } from '../support/http-transfer';
import { pseudoRandomStream, sha256Of } from '../support/streams';

// Through the storage HTTP API on the S3 stand-in, at sizes on both sides of the multipart boundary
// (parts of 8 MiB): one request, one part, many parts.
const MB = 1024 * 1024;

let h: StorageHarness;
let baseUrl: string;
beforeAll(async () => {
  h = await startStorage('mongo-s3');
  await registerApp(h);
  baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h.close());

const incompleteUploads = () => listUnfinishedUploads(h.config);

it.each([
  ['2 MB', 2 * MB],
  ['40 MB', 40 * MB],
  ['200 MB', 200 * MB],
])(
  'uploads and downloads %s byte-identical',
  async (_label, size) => {
    const instance = await createInstance(h);
    const expected = await sha256Of(pseudoRandomStream(size, size, 256 * 1024));
    const upload = await uploadOverHttp(
      `${baseUrl}${instanceUrl(instance)}/data?dataType=bigfile`,
      { ...h.auth.owner, 'content-type': 'application/octet-stream' },
      pseudoRandomStream(size, size, 256 * 1024),
    );
    expect(upload.status).toBe(201);
    const element = JSON.parse(upload.body) as DataElement;
    expect(element).toMatchObject({ size, contentHash: expected.hash });

    const download = await downloadOverHttp(`${baseUrl}${API}/instances/${instance.id}/data/${element.id}`, h.auth.owner);
    expect(download).toMatchObject({ status: 200, complete: true, size, hash: expected.hash });
    expect(await incompleteUploads()).toEqual([]);
  },
  180_000,
);

it('answers an upload refused half-way with its own error (413), and aborts the multipart upload it had begun', async () => {
  const instance = await createInstance(h);
  // `attachment` allows 1 MB; `bigfile` the service ceiling. A dedicated type of 20 MB makes the limit trip
  // after two 8 MiB parts have gone to S3.
  const app = await h.app.inject({ method: 'GET', url: `${API}/applications/nav/sample-app`, headers: h.auth.nav });
  const application = app.json();
  const withLimit = { ...application, dataTypes: [...application.dataTypes, { id: 'limited', allowedContentTypes: ['application/octet-stream'], maxSize: 20, maxCount: 0, minCount: 0 }] };
  const updated = await h.app.inject({
    method: 'PUT',
    url: `${API}/applications/nav/sample-app`,
    headers: { ...h.auth.nav, 'if-match': `"${application.version}"` },
    payload: { title: withLimit.title, dataTypes: withLimit.dataTypes, partyTypesAllowed: withLimit.partyTypesAllowed },
  });
  expect(updated.statusCode).toBe(200);

  const answer = await uploadOverHttp(
    `${baseUrl}${instanceUrl(instance)}/data?dataType=limited`,
    { ...h.auth.owner, 'content-type': 'application/octet-stream' },
    pseudoRandomStream(30 * MB, 3),
  );
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'DATA_TOO_LARGE' });
  expect(await incompleteUploads()).toEqual([]);
  const current = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
  expect(current.json().data).toEqual([]);
}, 120_000);
