import { Readable } from 'node:stream';

/** What the S3 adapter needs beyond the SDK: response parsing, range slicing and error classification. */

/** Parses `bytes start-end/total`; total is undefined when the server sent `*`. */
export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; totalSize: number | undefined } | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, start, end, total] = match;
  return { start: Number(start), end: Number(end), totalSize: total === '*' ? undefined : Number(total) };
}

export function requireContentLength(contentLength: number | undefined, key: string): number {
  if (contentLength === undefined) throw new Error(`S3 response for ${key} has no Content-Length`);
  return contentLength;
}

/** Passes through `length` bytes after skipping `skip`, then ends; leaving the loop destroys the source. */
export function sliceStream(source: Readable, skip: number, length: number): Readable {
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

export function hasErrorName(error: unknown, name: string): boolean {
  return errorName(error) === name;
}

export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** HEAD responses have no body, so a missing bucket or object only shows up as a bare 404 "NotFound". */
export function isNotFound(error: unknown): boolean {
  return hasErrorName(error, 'NotFound') || hasErrorName(error, 'NoSuchBucket') || httpStatusOf(error) === 404;
}

/** Only a missing key means "no blob"; a missing bucket is a configuration error and must surface. */
export function isNoSuchKey(error: unknown): boolean {
  return hasErrorName(error, 'NoSuchKey') || (httpStatusOf(error) === 404 && hasErrorName(error, 'NotFound'));
}

export function isInvalidRange(error: unknown): boolean {
  return hasErrorName(error, 'InvalidRange') || httpStatusOf(error) === 416;
}

/** Error names S3-compatible servers use for "no room": MinIO's full drives and bucket quotas. */
const FULL_ERROR_NAMES = new Set(['XMinioStorageFull', 'XMinioAdminBucketQuotaExceeded', 'StorageFull', 'QuotaExceeded']);

/** The server has no room for the object (HTTP 507 Insufficient Storage, or a named equivalent). */
export function isStorageFull(error: unknown): boolean {
  const name = errorName(error);
  return (name !== undefined && FULL_ERROR_NAMES.has(name)) || httpStatusOf(error) === 507;
}
