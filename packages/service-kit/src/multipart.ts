import type { Readable } from 'node:stream';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@forms/contracts';

export type MultipartPart = MultipartFile | MultipartValue;
type PartsOptions = NonNullable<Parameters<FastifyRequest['parts']>[0]>;

/** RFC 2046: a boundary is 1 to 70 characters. */
const MAX_BOUNDARY_LENGTH = 70;
const BOUNDARY = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i;

const malformed = (detail: string) => new DomainError('invalid', 'MALFORMED_MULTIPART', `The multipart body is malformed: ${detail}.`);

/**
 * The boundary of a multipart Content-Type, refused (400 MALFORMED_MULTIPART) when missing or not 1 to 70
 * characters: the parser under @fastify/multipart (busboy) throws a plain Error for a missing one, and one past
 * 252 characters fails deep in its search code.
 */
export function multipartBoundary(contentType: string | undefined): string {
  const match = BOUNDARY.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2] ?? '';
  if (boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH) {
    throw malformed(`its Content-Type needs a boundary of 1 to ${MAX_BOUNDARY_LENGTH} characters`);
  }
  return boundary;
}

/**
 * Watches a multipart body stream past, chunk by chunk, for its close delimiter (`CRLF--boundary--`), without
 * holding it. Content cannot contain `CRLF--boundary` (the parser would take it for a boundary), so the first match
 * ends the last part. A body that ends without one is malformed: `onMalformed` is told at once, on the body's 'end'.
 */
class CloseDelimiterWatch {
  private readonly delimiter: Buffer;
  /** The last bytes before the current chunk, for a delimiter split across chunks; CRLF at first, as if the body began with one. */
  private tail = Buffer.from('\r\n');
  private found = false;
  malformed: DomainError | undefined;

  constructor(private readonly body: Readable, boundary: string, private readonly onMalformed: (error: DomainError) => void) {
    this.delimiter = Buffer.from(`\r\n--${boundary}--`);
    body.on('data', this.onData);
    body.once('end', this.onEnd);
  }

  private readonly onData = (chunk: Buffer): void => {
    const overlap = this.delimiter.length - 1;
    if (Buffer.concat([this.tail, chunk.subarray(0, overlap)]).includes(this.delimiter) || chunk.includes(this.delimiter)) {
      this.found = true;
      this.body.off('data', this.onData);
      return;
    }
    this.tail = Buffer.from(chunk.length >= overlap ? chunk.subarray(chunk.length - overlap) : Buffer.concat([this.tail, chunk]).subarray(-overlap));
  };

  private readonly onEnd = (): void => {
    this.body.off('data', this.onData);
    if (this.found) return;
    this.malformed = malformed('it ends before its closing boundary');
    this.onMalformed(this.malformed);
  };
}

/**
 * The parts of a multipart request (`request.parts` of @fastify/multipart), refused with 400 MALFORMED_MULTIPART
 * when the body is not a whole multipart body: no usable boundary, or an end before the close delimiter.
 * @fastify/multipart ends its iterator quietly in the second case, and destroys the part being read without an
 * error (its reader then waits forever); so a body cut off between two parts or in one would otherwise either hang
 * or pass for a complete body with fewer parts. Here the part handed out last fails with the error, and so does the
 * iterator. (A part cut off in its content also fails with busboy's own error: see isMalformedMultipart.)
 */
export function multipartParts(request: FastifyRequest, options: PartsOptions): AsyncIterator<MultipartPart> {
  const boundary = multipartBoundary(request.headers['content-type']);
  const parts = request.parts(options)[Symbol.asyncIterator]();
  let watch: CloseDelimiterWatch | undefined;
  let handedOut: Readable | undefined;
  return {
    async next() {
      if (watch?.malformed) throw watch.malformed;
      const pending = parts.next();
      // Made after the first next(), which pipes the body into the parser: a 'data' listener added earlier would
      // start the body flowing with nobody else reading it.
      watch ??= new CloseDelimiterWatch(request.raw, boundary, (error) => handedOut?.destroy(error));
      const result = await pending;
      if (watch.malformed) {
        if (!result.done && result.value.type === 'file') result.value.file.destroy(watch.malformed);
        throw watch.malformed;
      }
      handedOut = !result.done && result.value.type === 'file' ? result.value.file : undefined;
      return result;
    },
  };
}

/**
 * What busboy throws or emits (as plain Errors, on the parts iterator or on a part's stream, wherever the stream
 * was piped to) when the body is not the multipart its Content-Type says: a sender's mistake, never ours.
 */
const MALFORMED_MULTIPART_MESSAGES = [/^Multipart: Boundary not found$/, /^Unexpected end of multipart data$/, /terminated early due to unexpected end of multipart data$/];

export function isMalformedMultipart(error: { message?: unknown; code?: unknown; statusCode?: unknown }): boolean {
  if (error.code !== undefined || error.statusCode !== undefined || typeof error.message !== 'string') return false;
  const message = error.message;
  return MALFORMED_MULTIPART_MESSAGES.some((pattern) => pattern.test(message));
}
