import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@forms/contracts';
import type { Caller } from '../domain/app-context';

/** The verified caller and the bearer token to forward to storage. */
export function callerOf(request: FastifyRequest): Caller {
  const token = request.headers.authorization?.replace(/^Bearer\s+/i, '');
  if (!request.principal || !token) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'A bearer token is required.');
  return { principal: request.principal, token };
}

/** Reads a body stream as UTF-8 text, refusing more than `limitBytes`. */
export async function readText(body: Readable, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limitBytes) {
      body.resume();
      throw new DomainError('too_large', 'BODY_TOO_LARGE', `The body exceeds the limit of ${limitBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const instanceIdOf = (params: { instanceOwnerPartyId: string; instanceGuid: string }) =>
  `${params.instanceOwnerPartyId}/${params.instanceGuid.toLowerCase()}`;

export function contentLengthOf(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}
