import type { FastifyRequest } from 'fastify';
import { DomainError } from '@forms/contracts';

/** Resource versions are exposed as strong ETags: `"<version>"`. */
export const etagOf = (version: number): string => `"${version}"`;

/** A version no resource ever has: what an entity tag that cannot match turns into. */
export const NO_VERSION = -1;

/** `W/"…"` or `"…"` with the characters RFC 9110 allows inside an entity tag. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"$/;

/**
 * The version a writer expects, from `If-Match` (RFC 9110 §13.1.1):
 * - absent or `*`: no expectation; the write applies to whatever version is current;
 * - one strong tag `"<n>"`: only version n will do, any other fails with 412;
 * - a weak tag `W/"<n>"`, or a strong tag that is not one of ours: If-Match compares strongly and our ETags
 *   are strong numbers, so it never matches (412);
 * - anything else (no quotes, an unterminated tag, a list of tags) is a malformed precondition: 400
 *   `INVALID_IF_MATCH`. Lists are refused rather than half-supported: a version has exactly one tag.
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const tag = ENTITY_TAG.exec(value);
  if (!tag) {
    throw new DomainError('invalid', 'INVALID_IF_MATCH', 'If-Match must be "*" or one entity tag, such as "3" (with the quotes).');
  }
  const [, weak, opaque = ''] = tag;
  return !weak && /^\d{1,15}$/.test(opaque) ? Number(opaque) : NO_VERSION;
}
