import type { FastifyRequest } from 'fastify';

/** Resource versions are exposed as strong ETags: `"<version>"`. */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * The version a writer expects, from `If-Match`. Absent or `*`: no expectation. A value that is not
 * one of our ETags can never match, so it yields an impossible version (the write then fails with 412).
 */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  return match ? Number(match[1]) : -1;
}
