import type { ByteRange } from '../../domain/ports/blob-store';

/** Rejects ranges no HTTP Range header could express; whether the range fits the blob is checked later. */
export function assertValidByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`Invalid byte range ${start}-${end}`);
  }
}
