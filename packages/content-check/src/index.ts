import { Transform, type TransformCallback } from 'node:stream';
import { filetypeinfo } from 'magic-bytes.js';

/**
 * Judges content by what it is, not by the Content-Type its sender claims. The first bytes go to
 * `magic-bytes.js` (the signatures of a few hundred formats, executables included); a PDF must also end with its
 * `%%EOF` trailer, which is checked as the stream ends, keeping only its last kilobyte. Used by the app service
 * and by storage alike.
 */

/** How many leading bytes are judged (signatures sit in the first few; some, e.g. tar's, at 257). */
export const HEAD_BYTES = 4096;
/** A PDF's `%%EOF` must be within its last 1024 bytes (what readers accept). */
const PDF_TRAILER_WINDOW = 1024;
const PDF_HEADER = /^%PDF-\d\.\d/;
const PDF_TRAILER = /%%EOF[\s\0]*$/;

/** Types that are the same thing under another name, or formats of a detected container. */
const SAME_AS: Record<string, readonly string[]> = {
  'image/jpg': ['image/jpeg'],
  'image/pjpeg': ['image/jpeg'],
  'application/x-pdf': ['application/pdf'],
  'application/x-zip-compressed': ['application/zip'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['application/zip'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['application/zip'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['application/zip'],
  'application/vnd.oasis.opendocument.text': ['application/zip'],
  'application/vnd.oasis.opendocument.spreadsheet': ['application/zip'],
};

/** Declared types that claim nothing about the content. */
const ANY_CONTENT = new Set(['application/octet-stream', 'binary/octet-stream']);

/** `text/xml; charset=utf-8` -> `text/xml`. */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Text formats: their signatures (`{`, `<?xml`) say nothing a text declaration does not. */
function isTextType(mime: string): boolean {
  return mime.startsWith('text/') || /^application\/(json|xml|csv|x-ndjson)$/.test(mime) || /\+(json|xml)$/.test(mime);
}

/** The types the content's first bytes show, text formats left out: empty for text and formats without a signature. */
export function detectBinaryTypes(head: Uint8Array): string[] {
  if (head.length === 0) return [];
  return filetypeinfo(head)
    .map((guess) => guess.mime ?? `application/x-${guess.typename.toLowerCase()}`)
    .filter((mime) => !isTextType(mime));
}

function isPdfType(declared: string): boolean {
  return declared === 'application/pdf' || declared === 'application/x-pdf';
}

/**
 * Whether content starting with `head` may be stored as `contentType`. A binary type must be what the content
 * shows; a text type (text/*, JSON, XML, CSV) is accepted only if the content shows no binary format and has no
 * NUL byte (an ELF sent as text/plain is refused). `application/octet-stream` claims nothing.
 */
export function headMatchesDeclaredType(head: Uint8Array, contentType: string): boolean {
  const declared = mediaTypeOf(contentType);
  if (ANY_CONTENT.has(declared)) return true;
  const detected = detectBinaryTypes(head);
  if (isTextType(declared)) return detected.length === 0 && !head.includes(0);
  if (isPdfType(declared) && !PDF_HEADER.test(Buffer.from(head.subarray(0, 8)).toString('latin1'))) return false;
  const accepted = [declared, ...(SAME_AS[declared] ?? [])];
  return detected.some((type) => accepted.includes(type));
}

/** Whether content ending with `tail` may be stored as `contentType`: a PDF must end with its `%%EOF` trailer. */
function tailMatchesDeclaredType(tail: Buffer, contentType: string): boolean {
  return !isPdfType(mediaTypeOf(contentType)) || PDF_TRAILER.test(tail.toString('latin1'));
}

/** The judgement of `ContentInspector` on content already in memory: its head and, for a PDF, its trailer. */
export function contentMatchesDeclaredType(content: Buffer, contentType: string): boolean {
  return (
    headMatchesDeclaredType(content.subarray(0, HEAD_BYTES), contentType) &&
    tailMatchesDeclaredType(content.subarray(Math.max(0, content.length - PDF_TRAILER_WINDOW)), contentType)
  );
}

/**
 * Passes content through unchanged while judging it: the head (first HEAD_BYTES, or all of a shorter content)
 * before anything passes on, a PDF's trailer as the stream ends. A mismatch fails the stream with `onMismatch()`.
 */
export class ContentInspector extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  private judged = false;
  private tail = Buffer.alloc(0);

  constructor(
    private readonly contentType: string,
    private readonly onMismatch: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.keepTail(chunk);
    if (this.judged) {
      callback(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < HEAD_BYTES) {
      callback();
      return;
    }
    this.judgeHead(callback);
  }

  override _flush(callback: TransformCallback): void {
    const finish = (error?: Error | null) => {
      if (error) return callback(error);
      if (!tailMatchesDeclaredType(this.tail, this.contentType)) return callback(this.onMismatch());
      callback();
    };
    if (this.judged) finish();
    else this.judgeHead(finish);
  }

  private judgeHead(callback: (error?: Error | null) => void): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.judged = true;
    if (!headMatchesDeclaredType(head.subarray(0, HEAD_BYTES), this.contentType)) return callback(this.onMismatch());
    if (head.length > 0) this.push(head);
    callback();
  }

  /** Only a PDF's last kilobyte is ever kept. */
  private keepTail(chunk: Buffer): void {
    if (!isPdfType(mediaTypeOf(this.contentType))) return;
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - PDF_TRAILER_WINDOW)));
  }
}

export { attachmentDisposition, filenameFromContentDisposition, InvalidContentDisposition, safeFilename } from './filename';
