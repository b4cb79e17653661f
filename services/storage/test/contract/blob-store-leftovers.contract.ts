import { PassThrough, Readable } from 'node:stream';
import type { BlobStore } from '../../src/domain/ports/blob-store';
import { newKey, seededBytes, sha256OfStream } from './blob-store.contract';
import { eventually } from '@forms/test-support';

/** Two stores on the same bucket or folder: as two replicas, or one process and the next after a crash. */
export type BlobStorePairFactory = () => { writer: BlobStore; other: BlobStore };

const MiB = 1024 * 1024;
const TIMEOUT_MS = 120_000;
const CONTENT_TYPE = 'application/octet-stream';

/**
 * Length hints, put activity and the removal of what interrupted puts leave behind (temp files,
 * incomplete multipart uploads): the part of the BlobStore contract the reaper relies on.
 */
export function describeBlobStoreLeftoversContract(name: string, createPair: BlobStorePairFactory): void {
  describe(`${name}: puts in progress and their leftovers`, () => {
    let store: BlobStore;
    let other: BlobStore;

    beforeAll(async () => {
      ({ writer: store, other } = createPair());
      await store.init();
      await other.init();
    });

    afterAll(async () => {
      await store?.close();
      await other?.close();
    });

    it(
      'stores a multi-part body whole even when the body claims a size of 0 (a metering stream counting as it goes)',
      async () => {
        const key = newKey();
        const body = Object.defineProperty(seededBytes(11, 20 * MiB), 'size', { get: () => 0 });
        await store.put(key, body, { contentType: CONTENT_TYPE });
        await expect(store.stat(key)).resolves.toEqual({ size: 20 * MiB });
        expect(await sha256OfStream((await store.get(key))!.body)).toBe(await sha256OfStream(seededBytes(11, 20 * MiB)));
      },
      TIMEOUT_MS,
    );

    it('reports no activity for a key never written, and recent activity for a fresh blob', async () => {
      const key = newKey();
      await expect(store.lastActivity(key)).resolves.toBeNull();
      const before = Date.now();
      await store.put(key, Readable.from([Buffer.from('content')]), { contentType: CONTENT_TYPE });
      const activity = await store.lastActivity(key);
      // Second-granular stores (S3's Last-Modified) round down.
      expect(activity!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    });

    it(
      'sees a stalled put as activity, leaves it while it is recent, and removes it once idle past the cut-off',
      async () => {
        const key = newKey();
        // 9 MiB and then silence: more than one S3 part, so a multipart upload exists on the server.
        const body = new PassThrough();
        seededBytes(12, 9 * MiB).pipe(body, { end: false });
        const put = store.put(key, body, { contentType: CONTENT_TYPE });
        const outcome = put.then(
          () => 'stored',
          () => 'failed',
        );
        await eventually(async () => (await other.lastActivity(key)) !== null, { timeoutMs: 20_000, intervalMs: 100, what: 'the activity to show on another connection' });

        await other.removeAbandonedUploads(new Date(Date.now() - 60_000));
        await expect(other.lastActivity(key)).resolves.not.toBeNull();
        // The process writing it never takes its own put for abandoned, however quiet its client.
        await store.removeAbandonedUploads(new Date(Date.now() + 60_000));
        await expect(store.lastActivity(key)).resolves.not.toBeNull();

        // Seen from elsewhere (another replica, or the process after a crash), as if silent for long: it goes.
        expect(await other.removeAbandonedUploads(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
        await expect(other.lastActivity(key)).resolves.toBeNull();

        body.destroy(new Error('client gone'));
        await expect(outcome).resolves.toBe('failed');
        await expect(store.stat(key)).resolves.toBeNull();
        await expect(store.lastActivity(key)).resolves.toBeNull();
        await expect(other.lastActivity(key)).resolves.toBeNull();
      },
      TIMEOUT_MS,
    );

    it(
      'leaves nothing behind when the body fails part-way through a multi-part put',
      async () => {
        const key = newKey();
        const bodyError = new Error('body failed on purpose');
        await expect(store.put(key, seededBytes(13, 30 * MiB, { failAfterBytes: 20 * MiB, error: bodyError }), { contentType: CONTENT_TYPE })).rejects.toBe(
          bodyError,
        );
        await expect(store.lastActivity(key)).resolves.toBeNull();
      },
      TIMEOUT_MS,
    );
  });
}
