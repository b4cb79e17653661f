import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { StorageErrors } from './errors';

/**
 * Passes content through while counting bytes and hashing it; fails the stream as soon as the content
 * exceeds `limitBytes`, so an oversize upload is refused before it is stored.
 */
export class ContentMeter extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limitBytes) {
      callback(StorageErrors.dataTooLarge(this.limitBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /**
   * Meters `body` without taking ownership of it: unlike `stream.pipeline`, a size error does not destroy
   * the body (for a request that would kill the socket before the 413 reaches the client); the rest of the
   * body is drained once the answer goes out (service-kit). A body that fails or closes early fails the meter.
   */
  static over(body: Readable, limitBytes: number): ContentMeter {
    const meter = new ContentMeter(limitBytes);
    body.on('error', (error) => meter.destroy(error));
    body.on('close', () => {
      if (!body.readableEnded) meter.destroy(new Error('the client closed the connection before the content was complete'));
    });
    // Stop feeding a failed meter; the error itself reaches whoever consumes the meter.
    meter.on('error', () => body.unpipe(meter));
    body.pipe(meter);
    return meter;
  }

  /** Bytes passed so far. (Not `size`: upload libraries read a body's `size` as its total length.) */
  get byteCount(): number {
    return this.bytes;
  }

  /** Hex sha256 of everything that passed; call once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
