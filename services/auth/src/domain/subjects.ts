import { ALL_SCOPES, Claims, Scopes, type Scope } from '@forms/contracts';
import { OAuthError } from './oauth-error';

/**
 * Who a token speaks for, in the three shapes the platform's verifiers (packages/auth-plugin) recognise:
 * an org (service owner), a person (user id + party), or an end-user system acting for a party.
 */
export type TokenSubject =
  | { kind: 'org'; org: string; orgNumber?: string; /** An app service's own client: `<org>/<app>`. */ app?: string }
  | { kind: 'user'; userId: string; partyId: string; authLevel: number }
  | { kind: 'system'; systemId: string; partyId: string };

/** Service-owner scopes are for orgs only: a party must never be able to read other parties' instances. */
const SERVICE_OWNER_SCOPES: ReadonlySet<string> = new Set([Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite, Scopes.storageEventsFeed]);
const PARTY_SCOPES: readonly Scope[] = [Scopes.instancesRead, Scopes.instancesWrite];

/** Every scope a subject of this kind may ever hold. */
export function scopesPermittedFor(kind: TokenSubject['kind']): readonly Scope[] {
  return kind === 'org' ? ALL_SCOPES : ALL_SCOPES.filter((scope) => !SERVICE_OWNER_SCOPES.has(scope));
}

/** What test tokens get when the caller names no scopes. */
export function defaultTestScopes(kind: TokenSubject['kind']): readonly Scope[] {
  return kind === 'org' ? [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] : PARTY_SCOPES;
}

/**
 * Scopes a subject may be registered with: known ones only, and service-owner scopes for orgs only.
 * Returns the offending scopes (empty when all are fine).
 */
export function scopesNotPermitted(kind: TokenSubject['kind'], scopes: readonly string[]): string[] {
  const permitted: ReadonlySet<string> = new Set(scopesPermittedFor(kind));
  return scopes.filter((scope) => !permitted.has(scope));
}

/** Splits an OAuth `scope` parameter. `undefined` means "not given"; an empty or blank value is an error. */
export function parseScopeParameter(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  // RFC 6749 §3.3: scope tokens are printable ASCII except space, `"` and `\`, separated by single spaces.
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(value)) {
    throw new OAuthError('invalid_scope', 'The scope parameter is not a space-separated list of scopes');
  }
  return [...new Set(value.split(' '))];
}

/**
 * The scopes to grant: what was asked for, if all of it is allowed; everything allowed when nothing was asked for.
 * `allowed` is what the client was registered with, re-checked against its kind so a store edited by hand
 * still cannot hand a party service-owner scopes.
 */
export function grantScopes(kind: TokenSubject['kind'], requested: readonly string[] | undefined, allowed: readonly string[]): string[] {
  const grantable = allowed.filter((scope) => scopesNotPermitted(kind, [scope]).length === 0);
  if (requested === undefined) {
    if (grantable.length === 0) throw new OAuthError('invalid_scope', 'The client is allowed no scopes');
    return [...grantable];
  }
  const refused = requested.filter((scope) => !grantable.includes(scope));
  if (refused.length > 0) {
    throw new OAuthError('invalid_scope', `Scope not allowed for this client: ${refused.join(' ')}`);
  }
  return [...requested];
}

/** The identifying claims of a subject, exactly as auth-plugin's principalFromClaims reads them. */
export function subjectClaims(subject: TokenSubject): Record<string, string | number> {
  switch (subject.kind) {
    case 'org':
      return {
        [Claims.org]: subject.org,
        ...(subject.orgNumber !== undefined ? { [Claims.orgNumber]: subject.orgNumber } : {}),
        ...(subject.app !== undefined ? { [Claims.app]: subject.app } : {}),
      };
    case 'user':
      return { [Claims.userId]: subject.userId, [Claims.partyId]: subject.partyId, [Claims.authLevel]: subject.authLevel };
    case 'system':
      return { [Claims.systemId]: subject.systemId, [Claims.partyId]: subject.partyId };
  }
}

/** `sub` of a token minted for the subject itself (test tokens); client tokens use the client id. */
export function subjectId(subject: TokenSubject): string {
  switch (subject.kind) {
    case 'org':
      return subject.org;
    case 'user':
      return subject.userId;
    case 'system':
      return subject.systemId;
  }
}
