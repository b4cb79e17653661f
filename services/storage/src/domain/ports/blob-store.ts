import type { Readable } from 'node:stream';

/**
 * Binary content of data elements. Adapters: S3 (production) and the local filesystem (default).
 * Both must pass test/contract/blob-store.contract.ts. Content is streamed both ways, never buffered whole.
 */
export interface BlobStore {
  /** Creates the bucket/folder if needed. Called once at start-up. */
  init(): Promise<void>;
  /** Throws when the store cannot serve requests (used by /ready). */
  ping(): Promise<void>;
  /**
   * Streams `body` to `key`, replacing any existing blob only once the whole body has arrived.
   * If `body` errors (for example a size limit tripping mid-stream) the promise rejects with that error
   * and neither a partial blob nor a changed previous blob is left behind.
   */
  put(key: string, body: Readable, options: { contentType: string }): Promise<void>;
  /**
   * Streams the blob, or the inclusive byte range of it; null when there is no such blob.
   * An `end` past the last byte is clamped to it; a `start` at or past the end of the blob rejects with
   * BlobRangeNotSatisfiableError (HTTP 416).
   */
  get(key: string, range?: ByteRange): Promise<BlobRead | null>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
  /** Size of the stored blob, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  /**
   * When `key` last saw a write: a put still sending bytes, or the completed blob's own write time. Null
   * when there is neither. The reaper leaves a key alone while this is recent, however old its upload record.
   */
  lastActivity(key: string): Promise<Date | null>;
  /**
   * Removes what interrupted puts left behind (temp files, incomplete multipart uploads) that have made no
   * progress since `idleSince`; a put still sending bytes is never touched. Returns how many it removed.
   */
  removeAbandonedUploads(idleSince: Date): Promise<number>;
  close(): Promise<void>;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobRead {
  body: Readable;
  /** Size of the whole blob, not of the range. */
  totalSize: number;
}

/**
 * The store has no room for the content (disk full, quota exceeded, or the S3 server's equivalent). The
 * put has left nothing behind; the same put can succeed once space returns.
 */
export class BlobStoreFullError extends Error {
  constructor(cause: unknown) {
    super(`The blob store is full: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'BlobStoreFullError';
  }
}

/** The requested range starts at or after the end of the blob. */
export class BlobRangeNotSatisfiableError extends RangeError {
  constructor(
    readonly range: ByteRange,
    /** Size of the whole blob, which a 416 response reports in its Content-Range header. */
    readonly totalSize: number,
  ) {
    super(`Range ${range.start}-${range.end} is not satisfiable for a blob of ${totalSize} bytes`);
    this.name = 'BlobRangeNotSatisfiableError';
  }
}
