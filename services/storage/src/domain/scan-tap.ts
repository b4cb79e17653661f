import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { StorageErrors } from './errors';
import { ScanFailedError, type MalwareScanner, type ScanVerdict } from './ports/malware-scanner';

/**
 * Passes upload content through to the blob store while feeding the same chunks to the malware scanner, so the
 * content is scanned as it arrives and never read a second time. Waits for the slower of the two (backpressure),
 * stops feeding a scanner that has already failed, and fails the upload once it exceeds what the scanner accepts
 * in one stream (the documented fallback for oversize content: refused, never stored unscanned).
 */
export class ScanTap extends Transform {
  private readonly feed = new PassThrough({ highWaterMark: 1024 * 1024 });
  private scannerDone = false;
  private wakeWriter: (() => void) | undefined;
  private bytes = 0;
  /** The scanner's verdict, or the ScanFailedError that kept it from reaching one. Never rejects. */
  readonly verdict: Promise<ScanVerdict | ScanFailedError>;

  constructor(private readonly scanner: MalwareScanner) {
    super();
    this.verdict = scanner.scan(this.feed).then(
      (verdict) => this.settle(verdict),
      (error: unknown) =>
        this.settle(error instanceof ScanFailedError ? error : new ScanFailedError('unavailable', `scan aborted: ${String(error)}`, { cause: error })),
    );
    this.feed.on('error', () => {});
  }

  /** Pipes `source` through the tap; an error of the source fails the tap too (pipe alone would not forward it). */
  static over(source: Readable, scanner: MalwareScanner): ScanTap {
    const tap = new ScanTap(scanner);
    source.on('error', (error) => tap.destroy(error));
    tap.on('error', () => source.unpipe(tap));
    source.pipe(tap);
    return tap;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.scanner.maxStreamBytes) {
      callback(StorageErrors.tooLargeToScan(this.scanner.maxStreamBytes));
      return;
    }
    if (this.scannerDone || this.feed.write(chunk)) {
      callback(null, chunk);
      return;
    }
    // The scanner is behind: hold this chunk until it drains (or gives up), so memory stays bounded.
    const resume = () => {
      this.feed.off('drain', resume);
      this.wakeWriter = undefined;
      callback(null, chunk);
    };
    this.wakeWriter = resume;
    this.feed.on('drain', resume);
  }

  override _flush(callback: TransformCallback): void {
    this.feed.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // After a complete upload (autoDestroy, or a consumer that destroys what it has read) the scanner may still be
    // reading the feed: only an incomplete upload aborts the scan.
    if (error || !this.feed.writableEnded) this.feed.destroy(error ?? new Error('upload aborted'));
    callback(error);
  }

  /** Bytes passed so far (all of them once the upload has ended). */
  get byteCount(): number {
    return this.bytes;
  }

  private settle<T>(outcome: T): T {
    this.scannerDone = true;
    this.feed.resume(); // discard whatever the scanner no longer reads
    this.wakeWriter?.();
    return outcome;
  }
}
