import { Scopes, type Application, type DataType, type Instance, type Principal } from '@forms/contracts';
import { StorageErrors } from './errors';

/**
 * Who may do what in storage: the permission table of the README, in one place.
 *
 * A caller has one of three roles on an instance:
 * - `app`:   the instance's own app service acting for the instance's owner (the party's token plus the app's
 *            own token, see Principal.via). The app is the authority: only it creates instances for parties,
 *            moves the process and writes data its rules check.
 * - `party`: the instance owner calling storage directly (a person or an end-user system). It reads, sets its
 *            read status, contributes attachments where the app allows it, and deletes (softly) its instances.
 * - `org`:   the app owner with service-owner scopes (an app's own token alone counts as its org, limited to
 *            that app). It reads, queries, confirms, sets substatus, and writes where `allowedContributors` let it.
 * Parties need `altinn:instances.read|write`, orgs `altinn:serviceowner/instances.read|write`; the app acts
 * with the party's scopes. Strangers are told an instance does not exist, so other parties' ids never leak.
 */
export type Access = 'read' | 'write';
export type Role = 'app' | 'party' | 'org';

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

/** The app service the principal speaks for: a party's `via`, or an app's own token. */
export function appOf(principal: Principal): string | undefined {
  return principal.kind === 'org' ? principal.app : principal.via;
}

/** Whether the principal stands in a relation to the instance at all (owner party, or owning org). */
function isStakeholder(principal: Principal, instance: Pick<Instance, 'org' | 'instanceOwner'>): boolean {
  return principal.kind === 'org' ? principal.org === instance.org : principal.partyId === instance.instanceOwner.partyId;
}

/**
 * The caller's role on the instance, checking the read scope. Strangers get not-found; an app service acting
 * in another app's instance does not find it to read, and is refused (403 APP_MISMATCH) when it writes.
 */
export function roleOn(principal: Principal, instance: Pick<Instance, 'org' | 'instanceOwner' | 'appId'>, access: Access = 'read'): Role {
  if (!isStakeholder(principal, instance) || !hasAccessScope(principal, 'read')) throw StorageErrors.instanceNotFound();
  const app = appOf(principal);
  // Through another app the instance is not there to read; a write through it is refused outright.
  if (app !== undefined && app !== instance.appId) throw access === 'read' ? StorageErrors.instanceNotFound() : StorageErrors.wrongApp(app, instance.appId);
  if (principal.kind === 'org') return 'org';
  return app === undefined ? 'party' : 'app';
}

/** Throws not-found for strangers, forbidden for stakeholders lacking the scope; returns the role. */
export function authorizeInstance(principal: Principal, instance: Instance, access: Access): Role {
  const role = roleOn(principal, instance, access);
  requireScope(principal, access);
  return role;
}

/** Names the roles that may do something; anyone else gets 403 with a code saying who may. */
export function requireRole(role: Role, allowed: readonly Role[], action: string): void {
  if (allowed.includes(role)) return;
  if (allowed.length === 1 && allowed[0] === 'app') throw StorageErrors.appRequired(action);
  if (allowed.length === 1 && allowed[0] === 'org') throw StorageErrors.orgRequired(action);
  throw StorageErrors.roleNotAllowed(role, action);
}

/**
 * Instance creation: the app for the party it acts for, or the org in its own apps (bulk, migration).
 * A party alone may not: instantiation is where the app's rules (party types, onInstantiate) run.
 */
export function authorizeCreate(principal: Principal, application: Pick<Application, 'id' | 'org'>, partyId: string): Role {
  requireScope(principal, 'write');
  const app = appOf(principal);
  if (app !== undefined && app !== application.id) throw StorageErrors.wrongApp(app, application.id);
  if (principal.kind === 'org') {
    if (principal.org !== application.org) throw StorageErrors.forbidden(`Only the app owner '${application.org}' may create instances without a party.`);
    return 'org';
  }
  if (principal.partyId !== partyId) throw StorageErrors.forbidden('An app may only create instances for the party it acts for.');
  if (app === undefined) throw StorageErrors.appRequired('create instances');
  return 'app';
}

/** Registering or updating an app's metadata: its org, or the app's own token for that app. */
export function authorizeApplicationWrite(principal: Principal, org: string, appId?: string): void {
  if (principal.kind !== 'org' || principal.org !== org) throw StorageErrors.forbidden(`Only the app owner '${org}' may do this.`);
  if (principal.app !== undefined && appId !== undefined && principal.app !== appId) throw StorageErrors.wrongApp(principal.app, appId);
  requireScope(principal, 'write');
}

/** The contributors a data type admits besides the app; `appLogic` (form data) is always the app's alone. */
function contributorsOf(dataType: DataType): { party: boolean; org: (org: string) => boolean } {
  const listed = dataType.allowedContributors ?? [];
  if (dataType.appLogic !== undefined || listed.includes('app:owned')) return { party: false, org: () => false };
  if (listed.length === 0) return { party: true, org: () => true };
  return { party: false, org: (org) => listed.includes(`org:${org}`) };
}

/**
 * May this role write (create, replace, delete) elements of the data type on this instance now?
 * - the app: any data type of its app, until the process ends;
 * - the org: types whose contributors admit it (also after the end: receipts, decisions);
 * - the party: types open to anyone who may write the instance, only while the process is in the type's task.
 */
export function authorizeDataWrite(role: Role, instance: Instance, dataType: DataType): void {
  if (instance.status.isSoftDeleted) throw StorageErrors.instanceLocked('The instance is deleted.');
  const contributors = contributorsOf(dataType);
  if (role === 'org') {
    if (!contributors.org(instance.org)) throw StorageErrors.dataTypeNotWritable(dataType.id, 'the org');
    return;
  }
  if (instance.process.ended) throw StorageErrors.instanceLocked('The instance is submitted; its data can no longer change.');
  if (role === 'app') return;
  if (!contributors.party) throw StorageErrors.dataTypeNotWritable(dataType.id, 'the party');
  const task = instance.process.currentTask?.elementId;
  if (dataType.taskId !== undefined && dataType.taskId !== task) throw StorageErrors.notInTask(dataType.id, dataType.taskId);
}
