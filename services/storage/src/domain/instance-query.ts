import type { Instance, Principal } from '@forms/contracts';
import type { InstanceQuery, MetadataStore, TimeRange } from './ports/metadata-store';
import { requireScope } from './authorization';
import { StorageErrors } from './errors';

/** Query parameters of `GET /instances`, after schema validation (repeatable ones as arrays). */
export interface InstanceQueryParams {
  appId?: string;
  org?: string;
  'instanceOwner.partyId'?: string;
  'process.currentTask'?: string;
  'process.isComplete'?: boolean;
  'process.endEvent'?: string;
  lastChanged?: string[];
  created?: string[];
  dueBefore?: string[];
  visibleAfter?: string[];
  'status.isArchived'?: boolean;
  'status.isSoftDeleted'?: boolean;
  excludeConfirmedBy?: string;
  size?: number;
  continuationToken?: string;
}

export interface InstancePage {
  instances: Instance[];
  /** Token for the next page, or null on the last page. */
  continuationToken: string | null;
}

const OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq'] as const;
type Operator = (typeof OPERATORS)[number];
const ISO_PREFIX = /^\d{4}-\d{2}-\d{2}/;

/** `gt:2024-01-01T00:00:00Z` (or a bare timestamp, meaning eq) -> a bound; repeated params combine. */
export function parseTimeRange(name: string, values: string[]): TimeRange {
  const range: TimeRange = {};
  for (const raw of values) {
    const colon = raw.indexOf(':');
    const hasOperator = colon > 0 && !ISO_PREFIX.test(raw);
    const operator = (hasOperator ? raw.slice(0, colon) : 'eq') as Operator;
    const value = hasOperator ? raw.slice(colon + 1) : raw;
    if (!OPERATORS.includes(operator)) {
      throw StorageErrors.invalid('UNKNOWN_OPERATOR', `Unknown operator '${operator}' in ${name}; use one of ${OPERATORS.join(', ')}.`);
    }
    const time = ISO_PREFIX.test(value) ? new Date(value) : new Date(NaN);
    if (Number.isNaN(time.getTime())) throw StorageErrors.invalid('INVALID_TIMESTAMP', `'${value}' in ${name} is not an ISO-8601 timestamp.`);
    range[operator] = time.toISOString();
  }
  return range;
}

/**
 * The keyset cursor as a short opaque token: base64url of `{"s": <sequence of the last instance's last write>}`.
 * Clients only pass it back; its content may change between releases (a token of an older release is refused
 * with INVALID_CONTINUATION_TOKEN: start the walk again).
 */
export function encodeContinuationToken(sequence: number): string {
  return Buffer.from(JSON.stringify({ s: sequence })).toString('base64url');
}

export function decodeContinuationToken(token: string): NonNullable<InstanceQuery['after']> {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const sequence = (decoded as { s?: unknown } | null)?.s;
    if (typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0) return { sequence };
  } catch {
    // fall through to the error below
  }
  throw StorageErrors.invalid('INVALID_CONTINUATION_TOKEN', 'The continuation token is malformed; start again without it.');
}

/**
 * Turns the request into a store query with the caller's authorization built in, so that paging happens
 * over exactly the rows the caller may see: a page never leaks a row nor comes back short because rows
 * were filtered out after the fact.
 */
export function buildInstanceQuery(principal: Principal, params: InstanceQueryParams, defaultSize: number): InstanceQuery {
  requireScope(principal, 'read');
  const query: InstanceQuery = { limit: params.size ?? defaultSize };
  const requestedParty = params['instanceOwner.partyId'];

  if (principal.kind === 'org') {
    if (!params.appId && !params.org) throw StorageErrors.invalid('APP_OR_ORG_REQUIRED', 'Give appId or org.');
    const orgs = new Set([params.org, params.appId?.split('/')[0]].filter(Boolean));
    if ([...orgs].some((org) => org !== principal.org)) {
      throw StorageErrors.forbidden(`You may only query instances of apps owned by '${principal.org}'.`);
    }
    query.org = principal.org;
    if (requestedParty) query.partyIds = [requestedParty];
    // An app's own token sees its own app only.
    if (principal.app !== undefined) appOnly(query, params, principal.app);
  } else {
    if (requestedParty && requestedParty !== principal.partyId) {
      throw StorageErrors.forbidden('You may only query instances of your own party.');
    }
    query.partyIds = [principal.partyId];
    if (params.org) query.org = params.org;
    // What the owner deleted after submitting is no longer in its lists (the org still has it).
    query.excludeHiddenFromOwner = true;
    if (principal.via !== undefined) appOnly(query, params, principal.via);
  }

  if (params.appId && !query.appIds) query.appIds = [params.appId];
  if (params['process.currentTask']) query.currentTask = params['process.currentTask'];
  if (params['process.isComplete'] !== undefined) query.isComplete = params['process.isComplete'];
  if (params['process.endEvent']) query.endEvent = params['process.endEvent'];
  if (params.lastChanged) query.lastChanged = parseTimeRange('lastChanged', params.lastChanged);
  if (params.created) query.created = parseTimeRange('created', params.created);
  if (params.dueBefore) query.dueBefore = parseTimeRange('dueBefore', params.dueBefore);
  if (params.visibleAfter) query.visibleAfter = parseTimeRange('visibleAfter', params.visibleAfter);
  if (params['status.isArchived'] !== undefined) query.isArchived = params['status.isArchived'];
  // Deleted instances are hidden unless asked for.
  query.isSoftDeleted = params['status.isSoftDeleted'] ?? false;
  query.isHardDeleted = false;
  if (params.excludeConfirmedBy) query.excludeConfirmedBy = params.excludeConfirmedBy;
  if (params.continuationToken) query.after = decodeContinuationToken(params.continuationToken);
  return query;
}

/** An app service queries its own app's instances only. */
function appOnly(query: InstanceQuery, params: InstanceQueryParams, app: string): void {
  if (params.appId && params.appId !== app) throw StorageErrors.wrongApp(app, params.appId);
  query.appIds = [app];
}

export async function queryInstances(store: MetadataStore, query: InstanceQuery): Promise<InstancePage> {
  // One extra row tells whether another page exists without a count query.
  const rows = await store.instances.querySequenced({ ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { instances: page.map((row) => row.instance), continuationToken: rows.length > query.limit && last ? encodeContinuationToken(last.sequence) : null };
}
