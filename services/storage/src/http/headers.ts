import { attachmentDisposition, filenameFromContentDisposition, InvalidContentDisposition } from '@forms/content-check';
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

/** Filename from `Content-Disposition: attachment; filename="a.pdf"` (or `filename*=`), made safe to store and show. */
export function filenameFrom(request: FastifyRequest): string | undefined {
  try {
    return filenameFromContentDisposition(request.headers['content-disposition']);
  } catch (error) {
    if (error instanceof InvalidContentDisposition) throw StorageErrors.invalid('INVALID_CONTENT_DISPOSITION', error.message);
    throw error;
  }
}

/**
 * Headers of every content download: always an attachment (never rendered inline by a browser on our origin)
 * and never sniffed into another type.
 */
export function downloadHeaders(filename: string | undefined): Record<string, string> {
  return { 'content-disposition': attachmentDisposition(filename), 'x-content-type-options': 'nosniff' };
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
