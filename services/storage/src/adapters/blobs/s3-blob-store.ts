import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { BlobRangeNotSatisfiableError, type BlobRead, type BlobStore, type ByteRange } from '../../domain/ports/blob-store';
import { assertValidByteRange } from './byte-range';

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
    // the clean-up after it: s3rver, for one, answers AbortMultipartUpload with MethodNotAllowed.
    let bodyError: unknown;
    const recordBodyError = (error: unknown): void => {
      bodyError ??= error;
    };
    body.on('error', recordBodyError);

    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType },
        partSize: this.partSize,
        queueSize: this.queueSize,
        // When the body or a part fails, Upload aborts the multipart upload (AbortMultipartUpload) before
        // rejecting; uncompleted multipart uploads are never visible as objects either way.
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (uploadError) {
      // Stop reading a body nobody will store; a no-op when the body itself failed.
      if (!body.destroyed) body.destroy();
      // `errored` covers a body that had already failed before put was called.
      throw bodyError ?? body.errored ?? uploadError;
    } finally {
      body.off('error', recordBodyError);
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

/** Parses `bytes start-end/total`; total is undefined when the server sent `*`. */
function parseContentRange(
  header: string | undefined,
): { start: number; end: number; totalSize: number | undefined } | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, start, end, total] = match;
  return { start: Number(start), end: Number(end), totalSize: total === '*' ? undefined : Number(total) };
}

function requireContentLength(contentLength: number | undefined, key: string): number {
  if (contentLength === undefined) throw new Error(`S3 response for ${key} has no Content-Length`);
  return contentLength;
}

/** Passes through `length` bytes after skipping `skip`, then ends; leaving the loop destroys the source. */
function sliceStream(source: Readable, skip: number, length: number): Readable {
  async function* slice(): AsyncGenerator<Buffer> {
    let toSkip = skip;
    let remaining = length;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const afterSkip = chunk.subarray(Math.min(toSkip, chunk.length));
      toSkip -= chunk.length - afterSkip.length;
      const taken = afterSkip.subarray(0, remaining);
      remaining -= taken.length;
      if (taken.length > 0) yield taken;
      if (remaining === 0) return;
    }
  }
  return Readable.from(slice(), { objectMode: false });
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function hasErrorName(error: unknown, name: string): boolean {
  return errorName(error) === name;
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** HEAD responses have no body, so a missing bucket or object only shows up as a bare 404 "NotFound". */
function isNotFound(error: unknown): boolean {
  return hasErrorName(error, 'NotFound') || hasErrorName(error, 'NoSuchBucket') || httpStatusOf(error) === 404;
}

/** Only a missing key means "no blob"; a missing bucket is a configuration error and must surface. */
function isNoSuchKey(error: unknown): boolean {
  return hasErrorName(error, 'NoSuchKey') || (httpStatusOf(error) === 404 && hasErrorName(error, 'NotFound'));
}

function isInvalidRange(error: unknown): boolean {
  return hasErrorName(error, 'InvalidRange') || httpStatusOf(error) === 416;
}
