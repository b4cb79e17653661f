import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scopes, type DataElement, type Instance } from '@forms/contracts';
import { eventually, TestIssuer } from '@forms/test-support';
import { SAMPLE_APP, viaApp } from '../support/storage-harness';
import { downloadOverHttp, uploadOverHttp } from '../support/http-transfer';
import { StorageProcess } from '../support/storage-process';
import { pseudoRandomStream } from '../support/streams';

// What an operator sees: the storage process's own log names the damaged element, its blob and the reason.
let issuer: TestIssuer;
let dataDir: string;
let storage: StorageProcess | undefined;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  dataDir = mkdtempSync(join(tmpdir(), 'storage-integrity-log-'));
  storage = await StorageProcess.start({ DATA_DIR: dataDir, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, REAPER_INTERVAL_SECONDS: '0' });
}, 90_000);
afterAll(async () => {
  await storage?.kill();
  await issuer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('logs damaged content at error level with the data element, its blob and the reason', async () => {
  const base = storage!.baseUrl;
  const nav = { authorization: `Bearer ${issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] })}` };
  // The party's requests as its app service makes them (storage takes instance creation only from the app).
  const owner = viaApp({ issuer }, { authorization: `Bearer ${issuer.userToken({ userId: 1001, partyId: '50001', scopes: [Scopes.instancesRead, Scopes.instancesWrite] })}` });
  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/applications/nav/sample-app', nav, SAMPLE_APP)).status).toBe(201);
  const instance = (await (await post('/instances?appId=nav/sample-app', owner, { instanceOwner: { partyId: '50001' } })).json()) as Instance;
  const uploaded = await uploadOverHttp(`${base}/instances/${instance.id}/data?dataType=bigfile`, { ...owner, 'content-type': 'application/octet-stream' }, pseudoRandomStream(100_000, 4));
  const element = JSON.parse(uploaded.body) as DataElement;

  const file = join(dataDir, 'blobs', ...element.blobStoragePath.split('/'));
  const content = await readFile(file);
  content[500] = (content[500] as number) ^ 0x01;
  await writeFile(file, content);
  const download = await downloadOverHttp(`${base}/instances/${instance.id}/data/${element.id}`, owner);
  // 100 KB is one read (blobs are read in 1 MiB chunks): the damage is found before a byte goes out, so the client
  // gets the problem, never the content.
  expect(download).toMatchObject({ status: 500, complete: true });
  expect(JSON.parse(download.text)).toMatchObject({ code: 'DATA_CONTENT_DAMAGED' });

  const line = await eventually(
    () =>
      storage!
        .output()
        .split('\n')
        .filter((text) => text.includes('stored content is damaged'))
        .map((text) => JSON.parse(text) as Record<string, unknown>)[0],
    { intervalMs: 100, what: 'the log line on the damaged content' },
  );
  expect(line).toMatchObject({
    level: 50,
    dataElementId: element.id,
    blobStoragePath: element.blobStoragePath,
    reason: 'sha256 differs from the recorded contentHash',
  });
  expect(line.reqId).toBeDefined();
}, 60_000);
