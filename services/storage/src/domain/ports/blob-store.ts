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
