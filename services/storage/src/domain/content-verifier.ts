import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import type { DomainError } from '@forms/contracts';
import { StorageErrors } from './errors';

export interface RecordedContent {
  size: number;
  /** Lower-case hex sha256, as recorded at upload. */
  contentHash: string;
}

/**
 * Passes a whole blob through while counting and hashing it, and fails the stream when it turns out to
 * differ from what was recorded at upload. The latest chunk is held back until the next one arrives or
 * the end has been verified, so damaged content never reaches its last byte: the client sees a
 * download cut short (fewer bytes than Content-Length), never wrong bytes with a clean end.
 */
class ContentVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private heldBack: Buffer | undefined;

  constructor(
    private readonly recorded: RecordedContent,
    private readonly onMismatch: (reason: string) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.recorded.size) {
      callback(this.mismatch(`more than the recorded ${this.recorded.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    const previous = this.heldBack;
    this.heldBack = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.recorded.size) {
      callback(this.mismatch(`size ${this.bytes} != recorded ${this.recorded.size}`));
      return;
    }
    if (this.hash.digest('hex') !== this.recorded.contentHash) {
      callback(this.mismatch('sha256 differs from the recorded contentHash'));
      return;
    }
    callback(null, this.heldBack);
  }

  private mismatch(reason: string): DomainError {
    this.onMismatch(reason);
    return StorageErrors.contentDamaged(reason);
  }
}

/**
 * `body` verified against `recorded`; `onMismatch` runs once when it does not match (to log and mark the
 * element). Destroying the result (a client that went away) destroys `body` too.
 */
export function verifiedContent(body: Readable, recorded: RecordedContent, onMismatch: (reason: string) => void): Readable {
  const verifier = new ContentVerifier(recorded, onMismatch);
  // The callback only keeps pipeline from throwing; the error itself reaches whoever reads `verifier`.
  return pipeline(body, verifier, () => undefined);
}
