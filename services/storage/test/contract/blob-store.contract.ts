import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobRangeNotSatisfiableError, type BlobStore } from '../../src/domain/ports/blob-store';

/**
 * Behaviour every BlobStore adapter must share. Each adapter's test file calls this with a factory for a
 * fresh, not yet initialised store; the suite calls init() and close() itself.
 */
export type BlobStoreFactory = () => BlobStore | Promise<BlobStore>;

const KiB = 1024;
const MiB = 1024 * KiB;
/** Larger than two parts of the S3 adapter (8 MiB), so it takes the multipart path with several parts. */
const MULTI_PART_SIZE = 20 * MiB;
const LARGE_BLOB_TIMEOUT_MS = 120_000;
const CONTENT_TYPE = 'application/octet-stream';

export interface BlobStoreContractOptions {
  /**
   * Whether the server behind the adapter makes concurrent writes of one key atomic. Real S3 does;
   * s3rver, our S3 stand-in, writes in place, so there the check would test s3rver, not our adapter.
   * (The storage service never writes one key twice: every content revision gets a fresh key.)
   */
  serverHasAtomicConcurrentPuts?: boolean;
}

export function describeBlobStoreContract(name: string, createStore: BlobStoreFactory, options: BlobStoreContractOptions = {}): void {
  describe(`${name} satisfies the BlobStore contract`, () => {
    let store: BlobStore;

    beforeAll(async () => {
      store = await createStore();
      await store.init();
    });

    afterAll(async () => {
      await store?.close();
    });

    describe('start-up and health', () => {
      it('init can run again on an initialised store', async () => {
        await expect(store.init()).resolves.toBeUndefined();
      });

      it('ping resolves', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('put then get returns the same bytes', () => {
      it.each([
        ['an empty blob', 0],
        ['a small blob', 1000],
        ['a blob of 1 MiB and 3 bytes', MiB + 3],
      ])('for %s', async (_description, size) => {
        const key = newKey();
        await store.put(key, seededBytes(size, size), { contentType: CONTENT_TYPE });

        await expect(store.stat(key)).resolves.toEqual({ size });
        const read = await store.get(key);
        expect(read).not.toBeNull();
        expect(read?.totalSize).toBe(size);
        expect(await sha256OfStream(read!.body)).toBe(await sha256OfStream(seededBytes(size, size)));
      });

      it('for a key with spaces and non-ASCII characters', async () => {
        const key = `org/app/${randomUUID()}/data/file name (1) æøå.pdf`;
        await store.put(key, Readable.from([Buffer.from('hello')]), { contentType: 'application/pdf' });

        const read = await store.get(key);
        expect(await textOf(read!.body)).toBe('hello');
      });
    });

    describe('a multi-part blob streamed in and out', () => {
      const seed = 20;
      const key = newKey();
      const partBoundary = 8 * MiB;

      beforeAll(async () => {
        await store.put(key, seededBytes(seed, MULTI_PART_SIZE), { contentType: CONTENT_TYPE });
      }, LARGE_BLOB_TIMEOUT_MS);

      it('reads back byte for byte', async () => {
        await expect(store.stat(key)).resolves.toEqual({ size: MULTI_PART_SIZE });
        const read = await store.get(key);
        expect(read?.totalSize).toBe(MULTI_PART_SIZE);
        expect(await sha256OfStream(read!.body)).toBe(await sha256OfStream(seededBytes(seed, MULTI_PART_SIZE)));
      }, LARGE_BLOB_TIMEOUT_MS);

      it.each([
        ['the first bytes', 0, 15],
        ['a range across a part boundary', partBoundary - 100, partBoundary + 99],
        ['the last byte', MULTI_PART_SIZE - 1, MULTI_PART_SIZE - 1],
      ])('reads %s', async (_description, start, end) => {
        const read = await store.get(key, { start, end });
        expect(read?.totalSize).toBe(MULTI_PART_SIZE);
        const expected = await sliceOfStream(seededBytes(seed, MULTI_PART_SIZE), start, end);
        expect((await bytesOf(read!.body)).toString('hex')).toBe(expected.toString('hex'));
      });

      it('lets a reader stop part-way without disturbing later reads', async () => {
        const read = await store.get(key);
        await firstChunkOf(read!.body);
        read!.body.destroy();

        const again = await store.get(key, { start: 0, end: 3 });
        expect(await bytesOf(again!.body)).toHaveLength(4);
      });
    });

    describe('byte ranges', () => {
      const size = 10_000;
      const seed = 7;
      const key = newKey();
      let content: Buffer;

      beforeAll(async () => {
        content = await bytesOf(seededBytes(seed, size));
        await store.put(key, seededBytes(seed, size), { contentType: CONTENT_TYPE });
      });

      it.each([
        ['the first byte', 0, 0],
        ['the first bytes', 0, 99],
        ['the middle', 4000, 5999],
        ['the last byte', size - 1, size - 1],
        ['the whole blob', 0, size - 1],
      ])('reads %s with the total size of the blob', async (_description, start, end) => {
        const read = await store.get(key, { start, end });
        expect(read?.totalSize).toBe(size);
        expect((await bytesOf(read!.body)).toString('hex')).toBe(content.subarray(start, end + 1).toString('hex'));
      });

      it('clamps an end past the last byte to the last byte', async () => {
        const read = await store.get(key, { start: size - 10, end: size + 1000 });
        expect(read?.totalSize).toBe(size);
        expect((await bytesOf(read!.body)).toString('hex')).toBe(content.subarray(size - 10).toString('hex'));
      });

      it('rejects a range that starts at or past the end with the blob size', async () => {
        const error = await store.get(key, { start: size, end: size + 10 }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BlobRangeNotSatisfiableError);
        expect((error as BlobRangeNotSatisfiableError).totalSize).toBe(size);
      });

      it('rejects any range of an empty blob', async () => {
        const emptyKey = newKey();
        await store.put(emptyKey, Readable.from([]), { contentType: CONTENT_TYPE });
        await expect(store.get(emptyKey, { start: 0, end: 0 })).rejects.toBeInstanceOf(BlobRangeNotSatisfiableError);
      });

      it.each([
        ['an end before the start', 10, 9],
        ['a negative start', -1, 9],
        ['a fractional position', 0.5, 9],
      ])('rejects %s as invalid', async (_description, start, end) => {
        await expect(store.get(key, { start, end })).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('a missing blob', () => {
      it('get returns null', async () => {
        await expect(store.get(newKey())).resolves.toBeNull();
      });

      it('get of a range returns null', async () => {
        await expect(store.get(newKey(), { start: 0, end: 9 })).resolves.toBeNull();
      });

      it('stat returns null', async () => {
        await expect(store.stat(newKey())).resolves.toBeNull();
      });
    });

    describe('delete', () => {
      it('removes the blob and can be repeated', async () => {
        const key = newKey();
        await store.put(key, seededBytes(1, 100), { contentType: CONTENT_TYPE });

        await store.delete(key);
        await expect(store.stat(key)).resolves.toBeNull();
        await expect(store.get(key)).resolves.toBeNull();
        await expect(store.delete(key)).resolves.toBeUndefined();
      });

      it('succeeds for a key that never existed', async () => {
        await expect(store.delete(newKey())).resolves.toBeUndefined();
      });
    });

    describe('overwrite', () => {
      it('replaces the previous content', async () => {
        const key = newKey();
        await store.put(key, seededBytes(1, 5000), { contentType: CONTENT_TYPE });
        await store.put(key, seededBytes(2, 300), { contentType: CONTENT_TYPE });

        await expect(store.stat(key)).resolves.toEqual({ size: 300 });
        const read = await store.get(key);
        expect(read?.totalSize).toBe(300);
        expect(await sha256OfStream(read!.body)).toBe(await sha256OfStream(seededBytes(2, 300)));
      });

      (options.serverHasAtomicConcurrentPuts === false ? it.skip : it)('leaves exactly one of two concurrent puts, whole', async () => {
        const key = newKey();
        const sizes = [MiB + 1, MiB + 2];
        await Promise.all(
          sizes.map((size) => store.put(key, seededBytes(size, size), { contentType: CONTENT_TYPE })),
        );

        const read = await store.get(key);
        expect(sizes).toContain(read?.totalSize);
        const size = read!.totalSize;
        expect(await sha256OfStream(read!.body)).toBe(await sha256OfStream(seededBytes(size, size)));
      });
    });

    describe('a body that errors part-way', () => {
      it.each([
        ['before any byte', 0, 5 * KiB],
        ['within the first part', 100 * KiB, 5 * MiB],
        ['half-way through a multi-part body', 10 * MiB, MULTI_PART_SIZE],
      ])(
        'rejects with the body error %s and leaves no blob',
        async (_description, failAfterBytes, size) => {
          const key = newKey();
          const bodyError = new Error('body failed on purpose');

          const put = store.put(key, seededBytes(3, size, { failAfterBytes, error: bodyError }), {
            contentType: CONTENT_TYPE,
          });

          await expect(put).rejects.toBe(bodyError);
          await expect(store.stat(key)).resolves.toBeNull();
          await expect(store.get(key)).resolves.toBeNull();
        },
        LARGE_BLOB_TIMEOUT_MS,
      );

      it.each([
        ['within the first part', 100 * KiB, 5 * MiB],
        ['half-way through a multi-part body', 10 * MiB, MULTI_PART_SIZE],
      ])(
        'rejects with the body error %s and keeps the previous content',
        async (_description, failAfterBytes, size) => {
          const key = newKey();
          await store.put(key, seededBytes(4, 4321), { contentType: CONTENT_TYPE });
          const bodyError = new Error('body failed on purpose');

          const put = store.put(key, seededBytes(5, size, { failAfterBytes, error: bodyError }), {
            contentType: CONTENT_TYPE,
          });

          await expect(put).rejects.toBe(bodyError);
          await expect(store.stat(key)).resolves.toEqual({ size: 4321 });
          const read = await store.get(key);
          expect(await sha256OfStream(read!.body)).toBe(await sha256OfStream(seededBytes(4, 4321)));
        },
        LARGE_BLOB_TIMEOUT_MS,
      );
    });
  });
}

/** A key shaped like the ones the storage service uses: org/app/instance/data/element. */
export function newKey(): string {
  return `ttd/contract-app/${randomUUID()}/data/${randomUUID()}`;
}

const GENERATED_CHUNK_SIZE = 64 * KiB;
const ZEROES = Buffer.alloc(GENERATED_CHUNK_SIZE);

/**
 * `size` pseudo-random bytes derived from `seed`, generated chunk by chunk as the reader asks, so even
 * large bodies are never held in memory. With `failAfterBytes` the stream is destroyed with `error`
 * once that many bytes have been read, like a request whose size limit trips.
 */
export function seededBytes(
  seed: number,
  size: number,
  failure?: { failAfterBytes: number; error: Error },
): Readable {
  // AES-CTR over zeroes is a seeded pseudo-random generator running at native speed (a JS generator
  // loop costs seconds per 20 MiB under jest).
  const key = createHash('sha256').update(`blob-store-contract-${seed}`).digest().subarray(0, 16);
  const keystream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  let produced = 0;
  return new Readable({
    read() {
      if (failure && produced >= failure.failAfterBytes) {
        this.destroy(failure.error);
        return;
      }
      if (produced >= size) {
        this.push(null);
        return;
      }
      const limit = failure ? Math.min(size, failure.failAfterBytes) : size;
      const length = Math.min(GENERATED_CHUNK_SIZE, limit - produced);
      produced += length;
      this.push(keystream.update(ZEROES.subarray(0, length)));
    },
  });
}

export async function sha256OfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** For small streams only. */
export async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function textOf(stream: Readable): Promise<string> {
  return (await bytesOf(stream)).toString('utf8');
}

/** The inclusive byte range of a stream, keeping only those bytes in memory. */
async function sliceOfStream(stream: Readable, start: number, end: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let position = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const chunkEnd = position + chunk.length;
    if (chunkEnd > start && position <= end) {
      pieces.push(chunk.subarray(Math.max(0, start - position), Math.min(chunk.length, end + 1 - position)));
    }
    position = chunkEnd;
    if (position > end) break;
  }
  return Buffer.concat(pieces);
}

async function firstChunkOf(stream: Readable): Promise<void> {
  for await (const _chunk of stream as AsyncIterable<Buffer>) return;
}
