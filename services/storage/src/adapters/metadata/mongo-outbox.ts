import type { InstanceEvent } from '@forms/contracts';
import type { Collection, Document } from 'mongodb';
import { idForKey, isDuplicateKeyError } from '@forms/mongo-support';
import type { InstanceWrite, PendingUpload, SequencedInstanceEvent } from '../../domain/ports/metadata-store';

/**
 * MongoDB has atomic writes of one document only (and the CongoServer stand-in has no transactions),
 * so what belongs to a write of an instance rides in the instance document itself: `_outbox` holds
 * the write's events and pending-upload records, `_outboxAt` marks the document (sparse index) until
 * the outbox is drained, that is copied to the events and pendingUploads collections and removed.
 * Draining is idempotent (records keep their ids; a duplicate means "already copied"), so a crash at
 * any point leaves either the outbox or its copies, never neither. Readers of events merge the outbox
 * in; a replace waits for the outbox of the version it replaces to be drained, so none is overwritten.
 */
export interface Outbox {
  events: InstanceEvent[];
  pendingUploads: PendingUpload[];
  settledUploads: string[];
}

export const OUTBOX = '_outbox';
export const OUTBOX_AT = '_outboxAt';

export function outboxFields(write: InstanceWrite | undefined, now: string): Document {
  const outbox: Outbox = { events: write?.events ?? [], pendingUploads: write?.pendingUploads ?? [], settledUploads: write?.settledUploads ?? [] };
  const empty = outbox.events.length === 0 && outbox.pendingUploads.length === 0 && outbox.settledUploads.length === 0;
  return empty ? {} : { [OUTBOX]: outbox, [OUTBOX_AT]: now };
}

export class OutboxDrain {
  constructor(
    private readonly instances: Collection,
    private readonly events: Collection,
    private readonly pendingUploads: Collection,
  ) {}

  /** Moves the outbox of the stored instance document `stored` (or of the one under `key`) out. */
  async drain(key: string, stored?: Document | null): Promise<void> {
    const doc = stored === undefined ? await this.instances.findOne({ _id: idForKey(key), _key: key }) : stored;
    const outbox = doc?.[OUTBOX] as Outbox | undefined;
    if (!doc || !outbox) return;
    // The events take the sequence and app of the instance version whose outbox this is.
    for (const event of outbox.events) await insertOnce(this.events, event.id, { ...event, ...eventFields(doc._seq, doc.appId) });
    for (const upload of outbox.pendingUploads) await insertOnce(this.pendingUploads, upload.dataElementId, upload);
    for (const id of outbox.settledUploads) await this.pendingUploads.deleteOne({ _id: idForKey(id), _key: id });
    // Only the version whose outbox this was: a newer version carries an outbox of its own.
    await this.instances.updateOne({ _id: doc._id, _key: key, version: doc.version }, { $unset: { [OUTBOX]: '', [OUTBOX_AT]: '' } });
  }

  /** Drains every outbox a crash left behind (at start-up); returns how many. */
  async drainAll(): Promise<number> {
    let drained = 0;
    for (;;) {
      const batch = await this.instances.find({ [OUTBOX_AT]: { $gte: '' } }).limit(100).toArray();
      for (const doc of batch) await this.drain(String(doc._key), doc);
      drained += batch.length;
      if (batch.length < 100) return drained;
    }
  }

  /** Records one event directly (idempotent), under the sequence of its write. */
  async recordEvent(event: InstanceEvent, sequence: number, appId: string): Promise<void> {
    await insertOnce(this.events, event.id, { ...event, ...eventFields(sequence, appId) });
  }

  /** Events still in outboxes of instance versions with a sequence in (after, upTo], for the feed. */
  async sequencedEvents(after: number, upTo: number, appIds?: string[]): Promise<SequencedInstanceEvent[]> {
    const filter: Document = { [OUTBOX_AT]: { $gte: '' }, _seq: { $gt: after, $lte: upTo } };
    if (appIds !== undefined) filter.appId = { $in: appIds };
    const docs = await this.instances.find(filter, { projection: { [OUTBOX]: 1, _seq: 1, appId: 1 } }).toArray();
    return docs.flatMap((doc) => ((doc[OUTBOX] as Outbox | undefined)?.events ?? []).map((event) => ({ ...event, sequence: Number(doc._seq), appId: String(doc.appId) })));
  }

  /** Events still in the outbox of instance `key`. */
  async pendingEvents(key: string): Promise<InstanceEvent[]> {
    const doc = await this.instances.findOne({ _id: idForKey(key), _key: key }, { projection: { [OUTBOX]: 1 } });
    return (doc?.[OUTBOX] as Outbox | undefined)?.events ?? [];
  }
}

const eventFields = (sequence: unknown, appId: unknown): Document => ({ _seq: Number(sequence ?? 0), _appId: String(appId ?? '') });

async function insertOnce(collection: Collection, key: string, doc: object): Promise<void> {
  try {
    await collection.insertOne({ ...doc, _id: idForKey(key), _key: key });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
