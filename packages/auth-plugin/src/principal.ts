import { Claims, type Principal } from '@forms/contracts';

type TokenClaims = Readonly<Record<string, unknown>>;

/** Ids may be JSON numbers in a token; Principal always carries them as strings. */
function idClaim(claims: TokenClaims, name: string): string | undefined {
  const value = claims[name];
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/** Absent means level 0; a present but unreadable level makes the token unusable (returns null). */
function authLevelClaim(claims: TokenClaims): number | null {
  const value = claims[Claims.authLevel];
  if (value === undefined) return 0;
  const level = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof level === 'number' && Number.isSafeInteger(level) && level >= 0 ? level : null;
}

/** The space-separated OAuth `scope` claim; null when present but not a string. */
function scopesClaim(claims: TokenClaims): string[] | null {
  const value = claims['scope'];
  if (value === undefined) return [];
  if (typeof value !== 'string') return null;
  return value.split(/\s+/).filter((scope) => scope !== '');
}

/**
 * Maps verified token claims to who is calling. Returns null when the claims match no known
 * principal shape (org, user, system — checked in that order) or carry unreadable values.
 */
export function principalFromClaims(claims: TokenClaims): Principal | null {
  const scopes = scopesClaim(claims);
  if (scopes === null) return null;
  const sub = claims['sub'];
  if (sub !== undefined && (typeof sub !== 'string' || sub === '')) return null;

  const org = idClaim(claims, Claims.org);
  if (org !== undefined) {
    const orgNumber = idClaim(claims, Claims.orgNumber);
    // An app service's own token names one app of its org; one naming another org's app is unusable.
    const app = claims[Claims.app];
    if (app !== undefined && (typeof app !== 'string' || !app.startsWith(`${org}/`) || app.length === org.length + 1)) return null;
    return { kind: 'org', org, ...(orgNumber !== undefined ? { orgNumber } : {}), ...(app !== undefined && { app }), scopes, subject: sub ?? org };
  }

  const partyId = idClaim(claims, Claims.partyId);
  if (partyId === undefined) return null;

  const userId = idClaim(claims, Claims.userId);
  if (userId !== undefined) {
    const authLevel = authLevelClaim(claims);
    if (authLevel === null) return null;
    return { kind: 'user', userId, partyId, authLevel, scopes, subject: sub ?? userId };
  }

  const systemId = idClaim(claims, Claims.systemId);
  if (systemId !== undefined) {
    return { kind: 'system', systemId, partyId, scopes, subject: sub ?? systemId };
  }
  return null;
}

/** True when the (possibly absent) principal was granted `scope`. */
export function hasScope(principal: Principal | null | undefined, scope: string): boolean {
  return principal?.scopes.includes(scope) ?? false;
}
