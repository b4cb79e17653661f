import contentDisposition from 'content-disposition';
import parseRange from 'range-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@forms/contracts';
import { DomainError } from '@forms/contracts';
import type { ByteRange } from '../domain/ports/blob-store';
import { StorageErrors } from '../domain/errors';

export { etagOf, expectedVersion } from '@forms/service-kit';

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'A bearer token is required.');
  return request.principal;
}

/** Filename from `Content-Disposition: attachment; filename="a.pdf"` (or `filename*=`), if any. */
export function filenameFrom(request: FastifyRequest): string | undefined {
  const header = request.headers['content-disposition'];
  if (!header) return undefined;
  try {
    const filename = contentDisposition.parse(header).parameters.filename;
    return filename ? filename.replace(/[\\/]/g, '_').slice(0, 255) : undefined;
  } catch {
    throw StorageErrors.invalid('INVALID_CONTENT_DISPOSITION', 'The Content-Disposition header is malformed.');
  }
}

export function contentDispositionFor(filename: string | undefined): string | undefined {
  return filename ? contentDisposition(filename, { type: 'attachment' }) : undefined;
}

/** Content-Length when given, so an oversize upload can be refused before reading the body. */
export function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/**
 * A single `Range: bytes=...` request resolved against the content size. Multiple ranges and
 * syntactically broken headers are ignored (the whole content is sent, as RFC 9110 allows);
 * a range outside the content fails with 416.
 */
export function requestedRange(request: FastifyRequest, reply: FastifyReply, size: number): ByteRange | undefined {
  const header = request.headers.range;
  if (!header) return undefined;
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) {
    reply.header('content-range', `bytes */${size}`);
    throw StorageErrors.rangeNotSatisfiable(size);
  }
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  const [range] = ranges;
  return range ? { start: range.start, end: range.end } : undefined;
}

export function sendNoContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
