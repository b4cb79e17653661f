/** JWT claim names shared by the token service (which writes them) and every verifier. */
export const Claims = {
  org: 'urn:altinn:org',
  orgNumber: 'urn:altinn:orgNumber',
  userId: 'urn:altinn:userid',
  partyId: 'urn:altinn:partyid',
  authLevel: 'urn:altinn:authlevel',
  systemId: 'urn:altinn:systemid',
} as const;

export const Scopes = {
  instancesRead: 'altinn:instances.read',
  instancesWrite: 'altinn:instances.write',
  serviceOwnerRead: 'altinn:serviceowner/instances.read',
  serviceOwnerWrite: 'altinn:serviceowner/instances.write',
} as const;
export type Scope = (typeof Scopes)[keyof typeof Scopes];
export const ALL_SCOPES: readonly Scope[] = Object.values(Scopes);

/** Who is calling, as established from a verified token. */
export type Principal =
  | { kind: 'user'; userId: string; partyId: string; authLevel: number; scopes: readonly string[]; subject: string }
  | { kind: 'org'; org: string; orgNumber?: string; scopes: readonly string[]; subject: string }
  | { kind: 'system'; systemId: string; partyId: string; scopes: readonly string[]; subject: string };
