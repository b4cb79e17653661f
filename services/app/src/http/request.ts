import type { FastifyRequest } from 'fastify';
import { DomainError } from '@forms/contracts';
import type { Caller } from '../domain/app-context';

/** The verified caller and the bearer token to forward to storage. */
export function callerOf(request: FastifyRequest): Caller {
  const token = request.headers.authorization?.replace(/^Bearer\s+/i, '');
  if (!request.principal || !token) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'A bearer token is required.');
  return { principal: request.principal, token };
}

export const instanceIdOf = (params: { instanceOwnerPartyId: string; instanceGuid: string }) =>
  `${params.instanceOwnerPartyId}/${params.instanceGuid.toLowerCase()}`;

export function contentLengthOf(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}
