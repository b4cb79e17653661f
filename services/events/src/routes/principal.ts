import type { FastifyRequest } from 'fastify';
import { DomainError, type Principal } from '@forms/contracts';

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'A bearer token is required.');
  return request.principal;
}
