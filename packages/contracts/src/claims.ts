/** JWT claim names shared by the token service (which writes them) and every verifier. */
export const Claims = {
  org: 'urn:altinn:org',
  orgNumber: 'urn:altinn:orgNumber',
  userId: 'urn:altinn:userid',
  partyId: 'urn:altinn:partyid',
  authLevel: 'urn:altinn:authlevel',
  systemId: 'urn:altinn:systemid',
  /** `<org>/<app>`: the token is an app service's own (its client at the token service names one app of its org). */
  app: 'urn:altinn:app',
} as const;

/** Header in which an app service sends its own token to storage, next to the party's bearer token (as Altinn's). */
export const ACCESS_TOKEN_HEADER = 'platformaccesstoken';

export const Scopes = {
  instancesRead: 'altinn:instances.read',
  instancesWrite: 'altinn:instances.write',
  serviceOwnerRead: 'altinn:serviceowner/instances.read',
  serviceOwnerWrite: 'altinn:serviceowner/instances.write',
  /** Subscribe to events and read the pull feed: an org for its own apps, a party for itself (services/events). */
  eventsSubscribe: 'altinn:events.subscribe',
  /** Read storage's change feed of every app: the events service's own client only (ADR 0014). */
  storageEventsFeed: 'altinn:storage/events.feed',
} as const;
export type Scope = (typeof Scopes)[keyof typeof Scopes];
export const ALL_SCOPES: readonly Scope[] = Object.values(Scopes);

/**
 * Who is calling, as established from a verified token.
 * - `org.app`: the token is an app service's own, good for that one app of the org only.
 * - `via` on a party: the party acts through this app service (`<org>/<app>`), proven by the app's own token
 *   sent beside the party's (ACCESS_TOKEN_HEADER). Without it the party calls storage directly.
 */
export type Principal =
  | { kind: 'user'; userId: string; partyId: string; authLevel: number; scopes: readonly string[]; subject: string; via?: string }
  | { kind: 'org'; org: string; orgNumber?: string; app?: string; scopes: readonly string[]; subject: string }
  | { kind: 'system'; systemId: string; partyId: string; scopes: readonly string[]; subject: string; via?: string };

/** The id storage records for who made a change (`createdBy`, `lastChangedBy`): user id, org number (or org), system id. */
export function principalId(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return principal.userId;
    case 'org':
      return principal.orgNumber ?? principal.org;
    case 'system':
      return principal.systemId;
  }
}
