import { Scopes, type Instance, type Principal, type ReadStatus } from '@forms/contracts';
import type { InstanceQuery, MetadataStore, TimeRange } from './ports/metadata-store';
import { requireScope } from './authorization';
import { StorageErrors } from './errors';

/** Query parameters of `GET /instances`, after schema validation (repeatable ones as arrays). */
export interface InstanceQueryParams {
  appId?: string;
  org?: string;
  'instanceOwner.partyId'?: string;
  'instanceOwner.partyIds'?: string[];
  'process.currentTask'?: string;
  'process.isComplete'?: boolean;
  'process.endEvent'?: string;
  'process.ended'?: string[];
  lastChanged?: string[];
  created?: string[];
  dueBefore?: string[];
  visibleAfter?: string[];
  'status.isArchived'?: boolean;
  'status.isSoftDeleted'?: boolean;
  'status.isHardDeleted'?: boolean;
  excludeConfirmedBy?: string;
  confirmed?: boolean;
  size?: number;
  continuationToken?: string;
  order?: string;
}

export interface InstancePage {
  instances: Instance[];
  /** Token for the next page, or null on the last page. */
  continuationToken: string | null;
}

const OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq'] as const;
type Operator = (typeof OPERATORS)[number];
/** ISO-8601 of any precision down from a year: `2019`, `2019-02`, `2019-02-28T10`, `...T10:15:00.123+01:00`. */
const ISO_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An ISO-8601 time of reduced precision as the first instant it names, in UTC (`2019-02` -> 2019-02-01T00:00:00.000Z),
 * as Altinn reads its date filters; no offset means UTC.
 */
export function parseIsoTime(value: string): Date | null {
  const match = ISO_TIME.exec(value.trim());
  if (!match) return null;
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, '0') : '.000';
  const time = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${millis}${offset}`);
  // Date rolls 2019-02-30 over into March: a date that does not exist is refused instead.
  if (Number.isNaN(time.getTime())) return null;
  const check = new Date(`${year}-${month}-${day}T00:00:00Z`);
  return check.getUTCDate() === Number(day) && check.getUTCMonth() + 1 === Number(month) ? time : null;
}

/** `gt:2024-01-01T00:00:00Z`, `lte:2019-02` (or a bare time, meaning eq) -> a bound; repeated params combine. */
export function parseTimeRange(name: string, values: string[]): TimeRange {
  const range: TimeRange = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const prefix = colon > 0 ? raw.slice(0, colon).toLowerCase() : '';
    // A time has a colon too (10:15): what precedes an operator's colon is letters only.
    const hasOperator = /^[a-z]+$/.test(prefix);
    if (hasOperator && !OPERATORS.includes(prefix as Operator)) {
      throw StorageErrors.invalid('UNKNOWN_OPERATOR', `Unknown operator '${prefix}' in ${name}; use one of ${OPERATORS.join(', ')}.`);
    }
    const operator = (hasOperator ? prefix : 'eq') as Operator;
    const value = hasOperator ? raw.slice(colon + 1) : raw;
    const time = parseIsoTime(value);
    if (!time) throw StorageErrors.invalid('INVALID_TIMESTAMP', `'${value}' in ${name} is not an ISO-8601 time.`);
    range[operator] = time.toISOString();
  }
  return range;
}

/**
 * The keyset cursor as a short opaque token: base64url of `{"s": <sequence of the last instance's last write>}`.
 * Clients only pass it back; its content may change between releases (a token of an older release is refused
 * with INVALID_CONTINUATION_TOKEN: start the walk again).
 */
export function encodeContinuationToken(sequence: number, descending = false): string {
  return Buffer.from(JSON.stringify(descending ? { s: sequence, d: 1 } : { s: sequence })).toString('base64url');
}

export function decodeContinuationToken(token: string, descending = false): NonNullable<InstanceQuery['after']> {
  let decoded: { s?: unknown; d?: unknown } | null = null;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; d?: unknown } | null;
  } catch {
    // fall through to the error below
  }
  const sequence = decoded?.s;
  if (typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0) {
    // A token continues the walk it came from: the same order, or none.
    if ((decoded?.d === 1) !== descending) {
      throw StorageErrors.invalid('INVALID_CONTINUATION_TOKEN', 'The continuation token belongs to a walk in the other order; keep `order` as it was.');
    }
    return { sequence };
  }
  throw StorageErrors.invalid('INVALID_CONTINUATION_TOKEN', 'The continuation token is malformed; start again without it.');
}

/**
 * Turns the request into a store query with the caller's authorization built in, so that paging happens
 * over exactly the rows the caller may see: a page never leaks a row nor comes back short because rows
 * were filtered out after the fact.
 */
export function buildInstanceQuery(principal: Principal, params: InstanceQueryParams, defaultSize: number): InstanceQuery {
  // As in Altinn, an org queries with the read scope itself: a write-only integration does not list instances.
  if (principal.kind === 'org' && !principal.scopes.includes(Scopes.serviceOwnerRead)) throw StorageErrors.missingScope(Scopes.serviceOwnerRead);
  requireScope(principal, 'read');
  const query: InstanceQuery = { limit: params.size ?? defaultSize };
  const requestedParties = [...new Set([params['instanceOwner.partyId'], ...(params['instanceOwner.partyIds'] ?? [])].filter((p): p is string => !!p))];
  let confirmingOrg: string | undefined;

  if (principal.kind === 'org') {
    if (!params.appId && !params.org) throw StorageErrors.invalid('APP_OR_ORG_REQUIRED', 'Give appId or org.');
    const orgs = new Set([params.org, params.appId?.split('/')[0]].filter(Boolean));
    if ([...orgs].some((org) => org !== principal.org)) {
      throw StorageErrors.forbidden(`You may only query instances of apps owned by '${principal.org}'.`);
    }
    query.org = principal.org;
    confirmingOrg = principal.org;
    if (requestedParties.length > 0) query.partyIds = requestedParties;
    // An app's own token sees its own app only.
    if (principal.app !== undefined) appOnly(query, params, principal.app);
  } else {
    if (requestedParties.some((party) => party !== principal.partyId)) {
      throw StorageErrors.forbidden('You may only query instances of your own party.');
    }
    query.partyIds = [principal.partyId];
    if (params.org) query.org = params.org;
    confirmingOrg = params.org ?? params.appId?.split('/')[0];
    // What the owner deleted after submitting is no longer in its lists (the org still has it).
    query.excludeHiddenFromOwner = true;
    if (principal.via !== undefined) appOnly(query, params, principal.via);
  }

  if (params.appId && !query.appIds) query.appIds = [params.appId];
  if (params['process.currentTask']) query.currentTask = params['process.currentTask'];
  if (params['process.isComplete'] !== undefined) query.isComplete = params['process.isComplete'];
  if (params['process.endEvent']) query.endEvent = params['process.endEvent'];
  if (params['process.ended']) query.processEnded = parseTimeRange('process.ended', params['process.ended']);
  if (params.lastChanged) query.lastChanged = parseTimeRange('lastChanged', params.lastChanged);
  if (params.created) query.created = parseTimeRange('created', params.created);
  if (params.dueBefore) query.dueBefore = parseTimeRange('dueBefore', params.dueBefore);
  if (params.visibleAfter) query.visibleAfter = parseTimeRange('visibleAfter', params.visibleAfter);
  if (params['status.isArchived'] !== undefined) query.isArchived = params['status.isArchived'];
  applyDeletedFilters(query, principal, params);
  if (params.excludeConfirmedBy) query.excludeConfirmedBy = params.excludeConfirmedBy;
  if (params.confirmed !== undefined) {
    if (!confirmingOrg) throw StorageErrors.invalid('ORG_REQUIRED_FOR_CONFIRMED', "'confirmed' asks about an org's confirmation: give org or appId.");
    // confirmed=false is Altinn's short form of excludeConfirmedBy=<the org>.
    if (params.confirmed) query.confirmedBy = confirmingOrg;
    else query.excludeConfirmedBy = confirmingOrg;
  }
  query.descending = parseOrder(params.order);
  if (params.continuationToken) query.after = decodeContinuationToken(params.continuationToken, query.descending);
  return query;
}

/**
 * Deleted instances are left out unless asked for. A hard-deleted instance is soft-deleted too (as in Altinn), and
 * only the org sees it until the cleanup job removes it: a party asking for hard-deleted ones gets an empty page.
 */
function applyDeletedFilters(query: InstanceQuery, principal: Principal, params: InstanceQueryParams): void {
  const hard = params['status.isHardDeleted'];
  const soft = params['status.isSoftDeleted'];
  if (principal.kind !== 'org') {
    query.isHardDeleted = false;
    if (hard === true) query.partyIds = [];
    query.isSoftDeleted = soft ?? false;
    return;
  }
  query.isHardDeleted = hard ?? false;
  if (soft !== undefined) query.isSoftDeleted = soft;
  else if (hard !== true) query.isSoftDeleted = false;
}

/** An app service queries its own app's instances only. */
function appOnly(query: InstanceQuery, params: InstanceQueryParams, app: string): void {
  if (params.appId && params.appId !== app) throw StorageErrors.wrongApp(app, params.appId);
  query.appIds = [app];
}

/**
 * One page of the query: at most `query.limit` instances, and fewer when they are large: the page ends with the
 * instance that takes it to `maxPageBytes` (at least one is always taken), and `next` goes on from there.
 */
export async function queryInstances(store: MetadataStore, query: InstanceQuery, maxPageBytes: number): Promise<InstancePage> {
  // One extra row tells whether another page exists without a count query.
  const rows = await store.instances.querySequenced({ ...query, limit: query.limit + 1, maxBytes: maxPageBytes });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const full = page.reduce((bytes, row) => bytes + row.bytes, 0) >= maxPageBytes;
  const more = (rows.length > query.limit || full) && last;
  return { instances: page.map((row) => row.instance), continuationToken: more ? encodeContinuationToken(last.sequence, query.descending === true) : null };
}

/**
 * Altinn's `order`: `desc:lastChanged` (the default: newest change first) or `asc:lastChanged`, in any letter case.
 * Both are keyset walks on the commit order of the last changes, correct in either direction: no page repeats or
 * skips an instance that did not change. An ascending walk never misses one (an instance that changes during the
 * walk is met again at its new place, at the end); a descending walk returns each at most once, and one that changes
 * during it moves above where the walk started, where the next walk meets it first.
 */
export function parseOrder(order: string | undefined): boolean {
  if (order === undefined) return true;
  const match = /^(asc|desc):lastchanged$/i.exec(order.trim());
  if (!match) throw StorageErrors.invalid('INVALID_ORDER', `Unknown order '${order}'; use asc:lastChanged or desc:lastChanged.`);
  return match[1]?.toLowerCase() === 'desc';
}

const READ_STATUSES: readonly ReadStatus[] = ['Unread', 'Read', 'UpdatedSinceLastReview'];

/** `read`, `READ`, `Read` -> `Read`: Altinn reads the status case-insensitively. */
export function parseReadStatus(value: string): ReadStatus {
  const status = READ_STATUSES.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (!status) throw StorageErrors.invalid('INVALID_READ_STATUS', `Unknown read status '${value}'; use one of ${READ_STATUSES.join(', ')}.`);
  return status;
}
