import { Scopes, type Instance, type Principal } from '@forms/contracts';
import { StorageErrors } from './errors';

/**
 * Who may do what with instances.
 * - Users and end-user systems act for one party: they see that party's instances only,
 *   and need `altinn:instances.read` / `.write`.
 * - An org (app owner) sees the instances of its own apps only, and needs
 *   `altinn:serviceowner/instances.read` / `.write`.
 * Callers that may not read an instance are told it does not exist, so ids of other parties never leak.
 */
export type Access = 'read' | 'write';

const SCOPE: Record<Principal['kind'], Record<Access, string>> = {
  user: { read: Scopes.instancesRead, write: Scopes.instancesWrite },
  system: { read: Scopes.instancesRead, write: Scopes.instancesWrite },
  org: { read: Scopes.serviceOwnerRead, write: Scopes.serviceOwnerWrite },
};

/** A write scope implies the read scope of the same family. */
function hasAccessScope(principal: Principal, access: Access): boolean {
  const scopes = SCOPE[principal.kind];
  return principal.scopes.includes(scopes[access]) || (access === 'read' && principal.scopes.includes(scopes.write));
}

export function requireScope(principal: Principal, access: Access): void {
  if (!hasAccessScope(principal, access)) throw StorageErrors.missingScope(SCOPE[principal.kind][access]);
}

/** Whether the principal stands in a relation to the instance at all (owner party, or owning org). */
export function isStakeholder(principal: Principal, instance: Pick<Instance, 'org' | 'instanceOwner'>): boolean {
  return principal.kind === 'org' ? principal.org === instance.org : principal.partyId === instance.instanceOwner.partyId;
}

/** Throws not-found for strangers, forbidden for stakeholders lacking the scope. */
export function authorizeInstance(principal: Principal, instance: Instance, access: Access): void {
  if (!isStakeholder(principal, instance) || !hasAccessScope(principal, 'read')) throw StorageErrors.instanceNotFound();
  requireScope(principal, access);
}

/** Instance creation: parties for themselves, orgs for anyone in their own apps. */
export function authorizeCreate(principal: Principal, org: string, partyId: string): void {
  requireScope(principal, 'write');
  if (principal.kind === 'org' ? principal.org !== org : principal.partyId !== partyId) {
    throw StorageErrors.forbidden('You may only create instances for your own party, or in your own apps.');
  }
}

export function authorizeOrgOnly(principal: Principal, org: string, access: Access): void {
  if (principal.kind !== 'org' || principal.org !== org) {
    throw StorageErrors.forbidden(`Only the app owner '${org}' may do this.`);
  }
  requireScope(principal, access);
}

export function principalId(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return principal.userId;
    case 'org':
      return principal.org;
    case 'system':
      return principal.systemId;
  }
}
