import type { Document, Filter } from 'mongodb';
import type { InstanceQuery, TimeRange } from '../../domain/ports/metadata-store';

/**
 * InstanceQuery as a Mongo filter; instanceQuerySql in the SQLite adapter is the same in SQL.
 * Timestamps are ISO strings, so comparing them as strings orders them in time.
 */
export function instanceQueryFilter(query: InstanceQuery): Filter<Document> {
  const conditions: Filter<Document>[] = [];
  if (query.appIds !== undefined) conditions.push({ appId: { $in: query.appIds } });
  if (query.org !== undefined) conditions.push({ org: query.org });
  if (query.partyIds !== undefined) conditions.push({ 'instanceOwner.partyId': { $in: query.partyIds } });
  if (query.currentTask !== undefined) conditions.push({ 'process.currentTask.elementId': query.currentTask });
  // `null` matches a null as well as a missing member.
  if (query.isComplete !== undefined) conditions.push({ 'process.ended': query.isComplete ? { $ne: null } : null });
  if (query.endEvent !== undefined) conditions.push({ 'process.endEvent': query.endEvent });
  const ranges = { 'process.ended': query.processEnded, lastChanged: query.lastChanged, created: query.created, dueBefore: query.dueBefore, visibleAfter: query.visibleAfter };
  for (const [field, range] of Object.entries(ranges)) {
    const bounds = range && rangeFilter(range);
    if (bounds) conditions.push({ [field]: bounds });
  }
  if (query.isArchived !== undefined) conditions.push({ 'status.isArchived': query.isArchived });
  if (query.isSoftDeleted !== undefined) conditions.push({ 'status.isSoftDeleted': query.isSoftDeleted });
  if (query.isHardDeleted !== undefined) conditions.push({ 'status.isHardDeleted': query.isHardDeleted });
  if (query.excludeHiddenFromOwner) conditions.push({ 'status.isHiddenFromOwner': { $ne: true } });
  // On an array member, $ne holds only when no element has the value.
  if (query.excludeConfirmedBy !== undefined) conditions.push({ 'completeConfirmations.stakeholderId': { $ne: query.excludeConfirmedBy } });
  if (query.confirmedBy !== undefined) conditions.push({ 'completeConfirmations.stakeholderId': query.confirmedBy });
  // The keyset cursor (`after`) and the watermark are conditions on `_seq`, added by the repository.
  return conditions.length === 0 ? {} : { $and: conditions };
}

/** Undefined for a range without bounds: an empty operator object would mean "equals {}" to Mongo. */
export function rangeFilter(range: TimeRange): Document | undefined {
  const operators: Document = {};
  if (range.gt !== undefined) operators.$gt = range.gt;
  if (range.gte !== undefined) operators.$gte = range.gte;
  if (range.lt !== undefined) operators.$lt = range.lt;
  if (range.lte !== undefined) operators.$lte = range.lte;
  if (range.eq !== undefined) operators.$eq = range.eq;
  return Object.keys(operators).length === 0 ? undefined : operators;
}

