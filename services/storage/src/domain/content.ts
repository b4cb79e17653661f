import { Readable } from 'node:stream';
import { BlobRangeNotSatisfiableError, type BlobRead, type ByteRange } from './ports/blob-store';
import type { StorageContext } from './storage-context';

/**
 * Where a data element's content is (ADR 0018): small content in the metadata store, written in the transaction
 * that records its element; the rest in the blob store. Both are keyed by the element's blob storage path, so
 * readers and deleters need not know which one holds it.
 */

/** The content under `key` (or a range of it), wherever it is kept; null when neither store has it. */
export async function readContent(ctx: StorageContext, key: string, range?: ByteRange): Promise<BlobRead | null> {
  const inline = await ctx.store.inlineContents?.get(key);
  if (!inline) return ctx.blobs.get(key, range);
  if (!range) return { body: Readable.from(inline), totalSize: inline.length };
  // As the blob stores do: an end past the last byte is clamped, a start at or past the end is refused.
  if (range.start >= inline.length) throw new BlobRangeNotSatisfiableError(range, inline.length);
  return { body: Readable.from(inline.subarray(range.start, Math.min(range.end, inline.length - 1) + 1)), totalSize: inline.length };
}

/** Deletes the content under `key` from whichever store holds it. Idempotent. */
export async function deleteContent(ctx: StorageContext, key: string): Promise<void> {
  await ctx.store.inlineContents?.delete(key);
  await ctx.blobs.delete(key);
}

/**
 * Reads `body` whole when it ends within `maxBytes` and resolves with it. A longer body is handed to `large`
 * as one stream (the bytes read so far, then the rest), and the promise resolves with undefined once `large`
 * has; `body`'s error rejects either way, and `body` is destroyed when `large` fails before reading it all.
 */
export async function readSmall(body: Readable, maxBytes: number, large: (whole: Readable) => Promise<void>): Promise<Buffer | undefined> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let size = 0;
  while (size <= maxBytes) {
    const next = await chunks.next();
    if (next.done) return Buffer.concat(head, size);
    head.push(next.value);
    size += next.value.length;
  }
  async function* whole(): AsyncGenerator<Buffer> {
    yield* head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  try {
    await large(Readable.from(whole(), { objectMode: false }));
    return undefined;
  } finally {
    // Ends the iteration (destroying `body`) when `large` stopped before the end; a no-op after it.
    await chunks.return?.();
  }
}
