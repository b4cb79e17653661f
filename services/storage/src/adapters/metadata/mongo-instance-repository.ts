import type { Instance, InstanceEvent } from '@forms/contracts';
import type { Collection, Document } from 'mongodb';
import type { InstanceQuery, InstanceRepository, InstanceWrite, SequencedInstance } from '../../domain/ports/metadata-store';
import { assertValidLimit, instanceGuidOf } from './metadata-support';
import { instanceQueryFilter } from './mongo-instance-query';
import { fromStored, translateErrors, type KeyedCollection } from './mongo-keyed-collection';
import { OUTBOX_AT, type OutboxDrain, outboxFields } from './mongo-outbox';
import type { MongoSequence } from './mongo-sequence';

/**
 * Writes of instances carry their events and pending uploads in an outbox (see mongo-outbox.ts) and a
 * sequence from MongoSequence in `_seq`: the query order, and the sequence of the write's events.
 */
export class MongoInstanceRepository implements InstanceRepository {
  constructor(
    private readonly instances: KeyedCollection<Instance>,
    private readonly events: Collection,
    private readonly outbox: OutboxDrain,
    private readonly sequence: MongoSequence,
  ) {}

  get(instanceGuid: string): Promise<Instance | null> {
    return this.instances.get(instanceGuid);
  }

  async insert(instance: Instance, write?: InstanceWrite): Promise<void> {
    const key = instanceGuidOf(instance);
    await this.sequenced((sequence) => this.instances.insert(key, instance, { ...outboxFields(write, instance.lastChanged), _seq: sequence }));
    await this.drainQuietly(key);
  }

  async replace(instance: Instance, expectedVersion: number, write?: InstanceWrite): Promise<boolean> {
    const key = instanceGuidOf(instance);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // Never over an undrained outbox: that would lose the previous write's events.
      const replaced = await this.sequenced((sequence) =>
        this.instances.replaceIfVersion(key, instance, expectedVersion, { [OUTBOX_AT]: { $exists: false } }, { ...outboxFields(write, instance.lastChanged), _seq: sequence }),
      );
      if (replaced) {
        await this.drainQuietly(key);
        return true;
      }
      const stored = await this.instances.raw(key);
      if (!stored || stored.version !== expectedVersion || stored[OUTBOX_AT] === undefined) return false;
      await translateErrors(() => this.outbox.drain(key, stored));
    }
    return false;
  }

  async remove(instanceGuid: string, write?: Pick<InstanceWrite, 'events'>): Promise<void> {
    // Earlier events still in the outbox first (they would go with the document), then this write's
    // events (a crash before the delete leaves an instance that a retried delete removes), then the document.
    await translateErrors(() => this.outbox.drain(instanceGuid));
    const events = write?.events ?? [];
    if (events.length > 0) {
      const stored = await this.instances.raw(instanceGuid);
      const appId = await appOfInstance(stored, events[0] as InstanceEvent, this.events);
      await this.sequenced(async (sequence) => {
        for (const event of events) await translateErrors(() => this.outbox.recordEvent(event, sequence, appId));
      });
    }
    await this.instances.remove(instanceGuid);
  }

  query(query: InstanceQuery): Promise<Instance[]> {
    return this.querySequenced(query).then((rows) => rows.map((row) => row.instance));
  }

  async querySequenced(query: InstanceQuery): Promise<SequencedInstance[]> {
    assertValidLimit(query.limit);
    if (query.limit === 0) return [];
    const after = query.after?.sequence;
    // Oldest first, a page stops at the committed watermark: a write still in flight below it could otherwise land
    // behind the continuation and be skipped (ADR 0013). Newest first, the walk goes down from the newest write, and
    // a write that lands later is newer than the whole walk, as any change during a walk is: no bound is needed, and
    // with one an instance whose change is in flight (or above another's) would drop out of the listing meanwhile.
    const sequenceBound = query.descending
      ? { _seq: { $gt: 0, ...(after !== undefined && { $lt: after }) } }
      : { _seq: { $gt: after ?? 0, $lte: await translateErrors(() => this.sequence.watermark()) } };
    const filter = instanceQueryFilter(query);
    const rows = await this.instances.findRawSized({ $and: [filter, sequenceBound] }, { _seq: query.descending ? -1 : 1 }, query.limit, query.maxBytes);
    return rows.map(({ stored, bytes }) => ({ instance: fromStored<Instance>(stored), sequence: Number(stored._seq), bytes }));
  }

  /** A write under a sequence of its own; see MongoSequence.write. */
  private sequenced<T>(write: (sequence: number) => Promise<T>): Promise<T> {
    return translateErrors(() =>
      this.sequence.write(write, async (from, to) => {
        await this.instances.collection.updateOne({ _seq: from }, { $set: { _seq: to } });
        await this.events.updateMany({ _seq: from }, { $set: { _seq: to } });
      }),
    );
  }

  /** The write is stored (with its outbox) whatever happens here; a failed drain is finished by a later write or the next start. */
  private async drainQuietly(key: string): Promise<void> {
    await this.outbox.drain(key).catch(() => undefined);
  }
}

/** The app of an instance's events: the instance's, or (instance gone) that of its earlier events. */
export async function appOfInstance(stored: Document | null, event: InstanceEvent, events: Collection): Promise<string> {
  if (stored) return String(stored.appId);
  const earlier = await translateErrors(() => events.findOne({ instanceId: event.instanceId, _appId: { $gt: '' } }, { projection: { _appId: 1 } }));
  return earlier ? String(earlier._appId) : '';
}
