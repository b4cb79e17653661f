import type { InstanceEvent } from '@forms/contracts';
import type { Document, Filter } from 'mongodb';
import type { EventFeedQuery, EventQuery, InstanceEventRepository, SequencedInstanceEvent } from '../../domain/ports/metadata-store';
import { assertValidLimit } from './metadata-support';
import { appOfInstance } from './mongo-instance-repository';
import { fromStored, translateErrors, type KeyedCollection } from './mongo-keyed-collection';
import { rangeFilter } from './mongo-instance-query';
import type { OutboxDrain } from './mongo-outbox';
import type { MongoSequence } from './mongo-sequence';

export class MongoEventRepository implements InstanceEventRepository {
  constructor(
    private readonly events: KeyedCollection<InstanceEvent>,
    private readonly instances: KeyedCollection<object>,
    private readonly outbox: OutboxDrain,
    private readonly sequence: MongoSequence,
  ) {}

  /** An event on its own is a write of its own, with a sequence of its own. */
  async insert(event: InstanceEvent): Promise<void> {
    const stored = await this.instances.raw(event.instanceId.split('/')[1] ?? '');
    const appId = await appOfInstance(stored, event, this.events.collection);
    await translateErrors(
      () =>
        this.sequence.write(
          (sequence) => this.events.insert(event.id, event, { _seq: sequence, _appId: appId }),
          async (from, to) => {
            await this.events.collection.updateOne({ _key: event.id, _seq: from }, { $set: { _seq: to } });
          },
        ),
      event.id,
    );
  }

  /**
   * The events collection and, merged in, events still in the instance's outbox. A page (`limit`) takes the
   * outbox's events up to its last stored one, or all of them on the last page; the next page goes on after
   * the last event returned, so each is listed once wherever it was.
   */
  async list(instanceId: string, query: EventQuery): Promise<InstanceEvent[]> {
    if (query.limit !== undefined) assertValidLimit(query.limit);
    if (query.limit === 0) return [];
    const after = query.after;
    const filter: Filter<Document> = { instanceId };
    if (query.eventTypes !== undefined) filter.eventType = { $in: query.eventTypes };
    // The cursor is the lower bound of `created` (so the index scan starts there); of its own millisecond, only later ids.
    const from = after && (query.from === undefined || after.created >= query.from) ? after.created : query.from;
    const created = rangeFilter({ gte: from, lte: query.to });
    if (created) filter.created = created;
    if (after) filter.$or = [{ created: { $gt: after.created } }, { _key: { $gt: after.id } }];
    const stored = await this.events.find(filter, { created: 1, _key: 1 }, query.limit);
    const guid = instanceId.split('/')[1];
    const outboxed = guid ? await translateErrors(() => this.outbox.pendingEvents(guid)) : [];
    const seen = new Set(stored.map((event) => event.id));
    const lastStored = stored.at(-1);
    const morePages = query.limit !== undefined && stored.length === query.limit && lastStored !== undefined;
    const pending = outboxed.filter(
      (event) =>
        !seen.has(event.id) &&
        event.instanceId === instanceId &&
        (query.eventTypes === undefined || query.eventTypes.includes(event.eventType)) &&
        (query.from === undefined || event.created >= query.from) &&
        (query.to === undefined || event.created <= query.to) &&
        (after === undefined || compareEvents(event, after) > 0) &&
        (!morePages || compareEvents(event, lastStored) < 0),
    );
    if (pending.length === 0) return stored;
    return [...stored, ...pending].sort(compareEvents).slice(0, query.limit);
  }

  /** The outbox is read before the collection, as in `feed`: an event a drain moves meanwhile is found in one of them. */
  async get(instanceId: string, eventId: string): Promise<InstanceEvent | null> {
    const guid = instanceId.split('/')[1];
    const outboxed = guid ? await translateErrors(() => this.outbox.pendingEvents(guid)) : [];
    const event = outboxed.find((candidate) => candidate.id === eventId) ?? (await this.events.get(eventId));
    return event?.instanceId === instanceId ? event : null;
  }

  removeForInstance(instanceId: string): Promise<void> {
    return this.events.removeMany({ instanceId });
  }

  /**
   * Outboxes are read before the collection: a drain inserts the events and only then clears the outbox,
   * so an event missing from the outbox read is already in the collection when that is read.
   */
  async feed(query: EventFeedQuery): Promise<SequencedInstanceEvent[]> {
    assertValidLimit(query.limit);
    if (query.limit === 0 || query.appIds?.length === 0) return [];
    const watermark = await translateErrors(() => this.sequence.watermark());
    if (watermark <= query.after) return [];
    const outboxed = await translateErrors(() => this.outbox.sequencedEvents(query.after, watermark, query.appIds));
    const filter: Filter<Document> = { _seq: { $gt: query.after, $lte: watermark } };
    if (query.appIds !== undefined) filter._appId = { $in: query.appIds };
    const stored = (await this.events.findRaw(filter, { _seq: 1, _key: 1 }, query.limit)).map((doc) => sequenced(doc));
    const page = mergeEvents(stored, outboxed).slice(0, query.limit);
    const last = page.at(-1);
    if (page.length < query.limit || !last) return page;
    // A full page may end inside a write: the rest of that write's events come too.
    const rest = (await this.events.findRaw({ _seq: last.sequence, _key: { $gt: last.id } }, { _key: 1 })).map((doc) => sequenced(doc));
    const restOutboxed = outboxed.filter((event) => event.sequence === last.sequence && event.id > last.id);
    return [...page, ...mergeEvents(rest, restOutboxed)];
  }
}

const sequenced = (doc: Document): SequencedInstanceEvent => ({ ...fromStored<InstanceEvent>(doc), sequence: Number(doc._seq), appId: String(doc._appId) });

/** Stored events and outboxed ones (the same event may be in both while a drain runs), in (sequence, id) order. */
function mergeEvents(stored: SequencedInstanceEvent[], outboxed: SequencedInstanceEvent[]): SequencedInstanceEvent[] {
  const seen = new Set(stored.map((event) => event.id));
  const merged = [...stored, ...outboxed.filter((event) => !seen.has(event.id))];
  return merged.sort((a, b) => a.sequence - b.sequence || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The order of an instance's events: by `created`, then id. */
function compareEvents(a: Pick<InstanceEvent, 'created' | 'id'>, b: Pick<InstanceEvent, 'created' | 'id'>): number {
  return a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
