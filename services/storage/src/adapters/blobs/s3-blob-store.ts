import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3Client,
  type GetObjectCommandOutput,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import {
  BlobRangeNotSatisfiableError,
  BlobStoreFullError,
  type BlobRead,
  type BlobStore,
  type ByteRange,
} from '../../domain/ports/blob-store';
import { assertValidByteRange } from './byte-range';
import {
  hasErrorName,
  isInvalidRange,
  isNoSuchKey,
  isNotFound,
  isStorageFull,
  parseContentRange,
  requireContentLength,
  sliceStream,
} from './s3-support';

export interface S3BlobStoreOptions {
  /** Omit for AWS; set for S3-compatible servers (MinIO, s3rver, ...). */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Omit to use the SDK's default credential chain (environment, instance role, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `bucket.host/key` (false, AWS default) or `host/bucket/key` (true, needed by MinIO and s3rver). */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes; at least 5 MiB (S3's minimum). */
  partSize?: number;
  /** Parts uploaded concurrently per put. */
  queueSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
// Memory per put is bounded by about (queueSize + 1) * partSize: the parts in flight plus the one being filled.
const DEFAULT_QUEUE_SIZE = 3;

/**
 * Stores blobs as objects in one S3 bucket. Bodies are uploaded with multipart uploads, which only
 * become visible once completed, so a failed put never leaves a partial or changed object behind.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  /**
   * Keys this process is writing right now. A slow client fills a part slowly, so its multipart upload can look
   * idle on the server: the reaper of this process never touches these (other replicas go by the parts).
   */
  private readonly putsInProgress = new Set<string>();

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      credentials: options.credentials,
      forcePathStyle: options.forcePathStyle ?? false,
      // With the default (WHEN_SUPPORTED) the SDK sends streamed bodies with aws-chunked framing and
      // trailing checksums; S3-compatible servers that do not decode it store the framing as content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Another instance starting at the same time may have created it first.
      if (!hasErrorName(error, 'BucketAlreadyOwnedByYou')) throw error;
    }
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async put(key: string, body: Readable, options: { contentType: string }): Promise<void> {
    // Remembered so the caller gets the body's own error (say, a size limit) rather than an error from
    // the clean-up after it.
    let bodyError: unknown;
    const recordBodyError = (error: unknown): void => {
      bodyError ??= error;
    };
    body.on('error', recordBodyError);
    this.putsInProgress.add(key);

    try {
      const upload = new Upload({
        client: this.client,
        // Never let the SDK guess the length from the body's properties (it reads `.size`, `.byteLength`,
        // `.path`): a stream of unknown length is counted as it goes.
        params: { Bucket: this.bucket, Key: key, Body: withoutLengthHints(body), ContentType: options.contentType },
        partSize: this.partSize,
        queueSize: this.queueSize,
        // The SDK's own abort replaces the upload's error with the abort's when the abort fails; this
        // adapter aborts by itself below and keeps the real error.
        leavePartsOnError: true,
      });
      await upload.done();
    } catch (uploadError) {
      // Stop reading a body nobody will store; a no-op when the body itself failed.
      if (!body.destroyed) body.destroy();
      // Keys are never written twice at once, so every incomplete upload of this key is this put's. A
      // failing abort is left to the reaper (removeAbandonedUploads), never allowed to hide the cause.
      await this.abortUploadsOf(key).catch(() => undefined);
      // `errored` covers a body that had already failed before put was called.
      const cause = bodyError ?? body.errored ?? uploadError;
      throw isStorageFull(cause) ? new BlobStoreFullError(cause) : cause;
    } finally {
      this.putsInProgress.delete(key);
      body.off('error', recordBodyError);
    }
  }

  async lastActivity(key: string): Promise<Date | null> {
    if (this.putsInProgress.has(key)) return new Date();
    let latest: number | null = null;
    const consider = (date: Date | undefined): void => {
      if (date && (latest === null || date.getTime() > latest)) latest = date.getTime();
    };
    try {
      consider((await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).LastModified);
    } catch (error) {
      if (!isNotFound(error) && !isNoSuchKey(error)) throw error;
    }
    for await (const upload of this.multipartUploads(key)) {
      if (upload.Key === key) consider(await this.uploadActivity(upload));
    }
    return latest === null ? null : new Date(latest);
  }

  async removeAbandonedUploads(idleSince: Date): Promise<number> {
    let removed = 0;
    for await (const upload of this.multipartUploads()) {
      if (upload.Key !== undefined && this.putsInProgress.has(upload.Key)) continue;
      // Parts are only listed for uploads old enough to be abandoned at all.
      if (upload.Initiated && upload.Initiated >= idleSince) continue;
      const activity = await this.uploadActivity(upload);
      if (activity && activity >= idleSince) continue;
      await this.abortUpload(upload);
      removed++;
    }
    return removed;
  }

  /** Incomplete multipart uploads, all pages, optionally only those of keys starting with `prefix`. */
  private async *multipartUploads(prefix?: string): AsyncGenerator<MultipartUpload> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      yield* page.Uploads ?? [];
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** The latest of an upload's start and its parts' upload times: a put still sending keeps adding parts. */
  private async uploadActivity(upload: MultipartUpload): Promise<Date | undefined> {
    let latest = upload.Initiated;
    let partMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId, PartNumberMarker: partMarker }),
      );
      for (const part of page.Parts ?? []) {
        if (part.LastModified && (!latest || part.LastModified > latest)) latest = part.LastModified;
      }
      if (!page.IsTruncated) return latest;
      partMarker = page.NextPartNumberMarker;
    }
  }

  private async abortUploadsOf(key: string): Promise<void> {
    for await (const upload of this.multipartUploads(key)) {
      if (upload.Key === key) await this.abortUpload(upload);
    }
  }

  private async abortUpload(upload: MultipartUpload): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
    } catch (error) {
      // Gone already: completed or aborted by another replica in between.
      if (!hasErrorName(error, 'NoSuchUpload')) throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
    if (range) assertValidByteRange(range);
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      if (range && isInvalidRange(error)) {
        const blobStats = await this.stat(key);
        if (!blobStats) return null;
        throw new BlobRangeNotSatisfiableError(range, blobStats.size);
      }
      throw error;
    }

    const body = response.Body;
    if (!(body instanceof Readable)) {
      throw new Error(`S3 GetObject for ${key} returned no readable body`);
    }
    const returned = parseContentRange(response.ContentRange);
    if (!range) {
      return { body, totalSize: returned?.totalSize ?? requireContentLength(response.ContentLength, key) };
    }

    // A 200 without Content-Range means the server ignored the Range header and sent the whole blob.
    const returnedStart = returned?.start ?? 0;
    const returnedEnd = returned?.end ?? requireContentLength(response.ContentLength, key) - 1;
    const totalSize = returned?.totalSize ?? returnedEnd + 1;
    // S3 answers 416 here, but s3rver serves `bytes 0-0/0` for any range of an empty object.
    if (range.start >= totalSize) {
      body.destroy();
      throw new BlobRangeNotSatisfiableError(range, totalSize);
    }
    const wantedEnd = Math.min(range.end, totalSize - 1);
    if (returnedStart === range.start && returnedEnd === wantedEnd) {
      return { body, totalSize };
    }
    // Some S3-compatible servers answer a different range than asked (s3rver reads `bytes=0-0` as
    // `bytes=0-`): cut the wanted bytes out of what was sent rather than return the wrong ones.
    if (returnedStart > range.start || returnedEnd < wantedEnd) {
      body.destroy();
      throw new Error(
        `S3 returned bytes ${returnedStart}-${returnedEnd} of ${key} for requested range ${range.start}-${range.end}`,
      );
    }
    return { body: sliceStream(body, range.start - returnedStart, wantedEnd - range.start + 1), totalSize };
  }

  async delete(key: string): Promise<void> {
    // DeleteObject succeeds for missing keys, so this is idempotent as is.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: requireContentLength(head.ContentLength, key) };
    } catch (error) {
      if (isNotFound(error) || isNoSuchKey(error)) return null;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/**
 * The body as a plain stream, without the properties the SDK would read as its length (`size`,
 * `byteLength`, `path`): a metering stream whose `size` counts what has passed so far, for one, reads
 * as 0 at the start, and the SDK would then refuse to complete ("Expected 0 part(s) but uploaded 3").
 */
function withoutLengthHints(body: Readable): Readable {
  if (!('size' in body) && !('byteLength' in body) && !('path' in body)) return body;
  return Readable.from(body, { objectMode: false });
}
