import { DomainError } from '@forms/contracts';
import { defaultTestScopes, scopesNotPermitted, subjectId, type TokenSubject } from './subjects';
import type { IssuedToken, TokenIssuer } from './token-issuer';

/**
 * Development tokens without a registered client, for trying the APIs with curl. Only reachable when
 * TEST_TOKENS_ENABLED is set, which configuration refuses in production.
 */
export async function issueTestToken(
  issuer: TokenIssuer,
  subject: TokenSubject,
  scopes: readonly string[] | undefined,
  lifetimeSeconds?: number,
): Promise<IssuedToken> {
  const granted = scopes === undefined ? defaultTestScopes(subject.kind) : [...new Set(scopes)];
  const refused = scopesNotPermitted(subject.kind, granted);
  if (refused.length > 0) {
    throw new DomainError('invalid', 'INVALID_SCOPE', `scopes not allowed for a ${subject.kind} token: ${refused.join(' ')}`);
  }
  return issuer.issue({ subject, scopes: granted, sub: subjectId(subject), ...(lifetimeSeconds !== undefined ? { lifetimeSeconds } : {}) });
}
