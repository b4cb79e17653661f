import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Scopes, type DataElement, type Instance } from '@forms/contracts';
import { eventually, TestIssuer } from '@forms/test-support';
import { createMetadataStore } from '../../src/adapters';
import { loadStorageConfig } from '../../src/config';
import { SAMPLE_APP, viaApp, type AdapterSet } from '../support/storage-harness';
import { uploadOverHttp } from '../support/http-transfer';
import { StorageProcess } from '../support/storage-process';
import { pseudoRandomStream } from '../support/streams';

// A storage process is killed (SIGKILL) half-way through a 500 MB upload, started again on the same
// data, and its reaper left to run: then no blob may remain without a data element, no temp file and
// no incomplete multipart upload, while the data element stored before the crash is intact.
const MB = 1024 * 1024;
const UPLOAD_SIZE = 500 * MB;
const KILL_AFTER = 150 * MB;

async function walkFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await walkFiles(path)));
    else found.push(path);
  }
  return found;
}

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('SIGKILL during a 500 MB upload (%s)', (adapters) => {
  let issuer: TestIssuer;
  let dataDir: string;
  let env: Record<string, string>;
  let storage: StorageProcess | undefined;
  let s3: S3Client | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    dataDir = mkdtempSync(join(tmpdir(), 'storage-crash-'));
    const unique = randomUUID().slice(0, 8);
    env = {
      DATA_DIR: dataDir,
      JWKS_URL: issuer.jwksUrl,
      TOKEN_ISSUER: issuer.issuer,
      ...(adapters === 'mongo-s3' && {
        MONGODB_URL: process.env.TEST_MONGODB_URL!,
        MONGODB_DATABASE: `crash_${unique}`,
        S3_ENDPOINT: process.env.TEST_S3_ENDPOINT!,
        S3_BUCKET: `crash-${unique}`,
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    };
    if (adapters === 'mongo-s3') {
      s3 = new S3Client({
        endpoint: env.S3_ENDPOINT,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
    }
  });
  afterAll(async () => {
    await storage?.kill();
    s3?.destroy();
    await issuer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Every stored blob key, and every interrupted put the blob store still holds. */
  async function blobState(): Promise<{ blobs: string[]; leftovers: string[] }> {
    if (adapters === 'embedded') {
      const root = join(dataDir, 'blobs');
      const files = (await walkFiles(root)).map((path) => relative(root, path));
      return { blobs: files.filter((path) => !path.startsWith('.incoming')), leftovers: files.filter((path) => path.startsWith('.incoming')) };
    }
    const Bucket = env.S3_BUCKET!;
    const objects = (await s3!.send(new ListObjectsV2Command({ Bucket }))).Contents ?? [];
    const uploads = (await s3!.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? [];
    return { blobs: objects.map((o) => o.Key!), leftovers: uploads.map((u) => `${u.Key} (${u.UploadId})`) };
  }

  it(
    'leaves, after a restart and the reaper, only blobs of data elements: no temp file, no incomplete upload',
    async () => {
      const nav = { authorization: `Bearer ${issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] })}` };
      // The party's requests as its app service makes them (storage takes instance creation only from the app).
      const owner = viaApp({ issuer }, {
        authorization: `Bearer ${issuer.userToken({ userId: 1001, partyId: '50001', scopes: [Scopes.instancesRead, Scopes.instancesWrite] })}`,
      });
      // The first run has its reaper off: the crash must leave something for the second run to find.
      storage = await StorageProcess.start({ ...env, REAPER_INTERVAL_SECONDS: '0' });
      const json = async (method: string, path: string, headers: Record<string, string>, body: unknown) => {
        const response = await fetch(`${storage!.baseUrl}${path}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(201);
        return response.json();
      };
      await json('POST', '/applications/nav/sample-app', nav, SAMPLE_APP);
      const instance = (await json('POST', '/instances?appId=nav/sample-app', owner, { instanceOwner: { partyId: '50001' } })) as Instance;
      const kept = await uploadOverHttp(
        `${storage.baseUrl}/instances/${instance.id}/data?dataType=bigfile`,
        { ...owner, 'content-type': 'application/octet-stream' },
        pseudoRandomStream(3 * MB, 1),
      );
      expect(kept.status).toBe(201);
      const keptElement = JSON.parse(kept.body) as DataElement;

      // The 500 MB upload; the process is killed once 150 MB have gone out.
      let sent = 0;
      const running = storage;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          sent += chunk.length;
          if (sent >= KILL_AFTER && running.signalCode === null) running.send('SIGKILL');
          callback(null, chunk);
        },
      });
      const crashed = await new Promise<string>((resolve) => {
        const req = request(`${running.baseUrl}/instances/${instance.id}/data?dataType=bigfile`, {
          method: 'POST',
          headers: { ...owner, 'content-type': 'application/octet-stream' },
        });
        req.on('response', (res) => resolve(`answered ${res.statusCode}`));
        req.on('error', (error) => resolve(error.message));
        pseudoRandomStream(UPLOAD_SIZE, 2, 256 * 1024).pipe(meter).pipe(req);
      });
      await running.exited;
      expect(running.signalCode).toBe('SIGKILL');
      expect(crashed).not.toMatch(/^answered/);
      // The crash did leave a partial upload behind (else this test would prove nothing).
      const afterCrash = await blobState();
      expect(afterCrash.leftovers.length).toBeGreaterThan(0);
      if (adapters === 'embedded') {
        const sizes = await Promise.all(afterCrash.leftovers.map(async (path) => (await stat(join(dataDir, 'blobs', path))).size));
        expect(Math.max(...sizes)).toBeGreaterThan(10 * MB);
      }

      // Restart on the same data, with a reaper that acts after 1 s of silence, and let it run.
      storage = await StorageProcess.start({ ...env, REAPER_INTERVAL_SECONDS: '1', REAPER_STALE_AFTER_SECONDS: '1' });
      const restarted = storage;
      // The pass that removed the partial upload also settled its upload record; it reports once done.
      await eventually(() => restarted.output().includes('reaper removed leftovers of interrupted uploads'), { timeoutMs: 60_000, intervalMs: 250, what: 'a reaper pass' });
      expect((await blobState()).leftovers).toEqual([]);
      const downloaded = await fetch(`${storage.baseUrl}/instances/${instance.id}/data/${keptElement.id}`, { headers: owner });
      expect(downloaded.status).toBe(200);
      expect(Buffer.from(await downloaded.arrayBuffer()).length).toBe(3 * MB);
      await storage.stop();

      // Now look with the service stopped: one blob, that of the data element; no record of an upload in flight.
      const { blobs, leftovers } = await blobState();
      expect(leftovers).toEqual([]);
      expect(blobs.map((key) => key.split(/[\\/]/).join('/'))).toEqual([keptElement.blobStoragePath]);
      const store = createMetadataStore(loadStorageConfig(env));
      await store.init();
      try {
        expect(await store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
        const stored = await store.instances.get(instance.id.split('/')[1]!);
        expect(stored?.data.map((d) => d.id)).toEqual([keptElement.id]);
      } finally {
        await store.close();
      }
    },
    300_000,
  );
});
