import type { Collection, Document, Sort } from 'mongodb';
import type { MongoSequence } from './mongo-sequence';

const BATCH = 500;

/**
 * Gives documents written before the write sequence existed one each, at start-up: events by (created, id),
 * then instances by (lastChanged, guid), so the new order begins as the old one was; events also get their
 * instance's app. A block of sequences stays in flight until its documents have them, so no reader passes
 * them half-numbered; replicas starting together number each document once (`_seq` absent is the condition).
 */
export async function numberUnsequenced(sequence: MongoSequence, instances: Collection, events: Collection): Promise<number> {
  let numbered = 0;
  const passes: [Collection, Sort][] = [
    [events, { created: 1, _key: 1 }],
    [instances, { lastChanged: 1, _key: 1 }],
  ];
  for (const [collection, sort] of passes) {
    for (;;) {
      const batch = await collection.find({ _seq: { $exists: false } }).sort(sort).limit(BATCH).toArray();
      if (batch.length === 0) break;
      const reservation = await sequence.reserve(batch.length);
      for (const [index, doc] of batch.entries()) {
        const fields: Document = { _seq: reservation.sequence + index };
        if (collection === events) fields._appId = await appOfEvent(instances, doc);
        await collection.updateOne({ _id: doc._id, _seq: { $exists: false } }, { $set: fields });
      }
      await sequence.release(reservation);
      numbered += batch.length;
    }
  }
  return numbered;
}

async function appOfEvent(instances: Collection, event: Document): Promise<string> {
  const guid = String(event.instanceId ?? '').split('/')[1];
  const instance = guid ? await instances.findOne({ _key: guid }, { projection: { appId: 1 } }) : null;
  return instance ? String(instance.appId) : '';
}
