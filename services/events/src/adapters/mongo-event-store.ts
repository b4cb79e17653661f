import { createMongoClient, idForKey, isDuplicateKeyError } from '@forms/mongo-support';
import type { Collection, Db, Filter, MongoClient, ObjectId } from 'mongodb';
import type { DeadLetter, DeadLetterRepository, EventLog, EventQuery, EventStore, StoredEvent, SubscriptionRepository } from '../domain/ports/event-store';
import type { Subscription } from '../domain/subscription';

interface EventDoc extends StoredEvent {
  _id: ObjectId;
}
interface RelayDoc {
  _id: ObjectId;
  position: number;
}
interface SubscriptionDoc {
  _id: ObjectId;
  id: string;
  owner: string;
  created: string;
  version: number;
  nextAttemptAt: number;
  leaseUntil: number | null;
  doc: Subscription;
}
interface DeadLetterDoc {
  _id: ObjectId;
  subscriptionId: string;
  sequence: number;
  replay: boolean;
  doc: DeadLetter;
}

const RELAY_ID = idForKey('relay');
const strip = <T extends { _id: ObjectId }>({ _id, ...rest }: T): Omit<T, '_id'> => rest;

/**
 * EventStore on MongoDB. Uniqueness rests on `_id` only (events by sequence, subscriptions by id, dead letters
 * by subscription and sequence); each change is one single-document write, guarded by a version where it races.
 */
export class MongoEventStore implements EventStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  readonly events: EventLog;
  readonly subscriptions: SubscriptionRepository;
  readonly deadLetters: DeadLetterRepository;

  constructor(url: string, database: string) {
    this.client = createMongoClient(url);
    this.db = this.client.db(database);
    this.events = new MongoEventLog(this.db.collection<EventDoc>('events'), this.db.collection<RelayDoc>('relay'));
    this.subscriptions = new MongoSubscriptions(this.db.collection<SubscriptionDoc>('subscriptions'), this.db.collection<DeadLetterDoc>('deadLetters'));
    this.deadLetters = new MongoDeadLetters(this.db.collection<DeadLetterDoc>('deadLetters'));
  }

  async init(): Promise<void> {
    await this.client.connect();
    await this.db.collection<EventDoc>('events').createIndexes([{ key: { appId: 1, sequence: 1 } }, { key: { subject: 1, sequence: 1 } }, { key: { sequence: 1 } }]);
    await this.db.collection<SubscriptionDoc>('subscriptions').createIndexes([{ key: { owner: 1, created: 1 } }, { key: { nextAttemptAt: 1 } }]);
    await this.db.collection<DeadLetterDoc>('deadLetters').createIndexes([{ key: { subscriptionId: 1, sequence: 1 } }]);
    try {
      await this.db.collection<RelayDoc>('relay').insertOne({ _id: RELAY_ID, position: 0 });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

class MongoEventLog implements EventLog {
  constructor(
    private readonly events: Collection<EventDoc>,
    private readonly relay: Collection<RelayDoc>,
  ) {}

  async append(events: StoredEvent[], position: number): Promise<void> {
    for (const event of events) {
      try {
        await this.events.insertOne({ _id: idForKey(String(event.sequence)), ...event });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    // Only forwards: a slower relaying instance never moves the position back.
    await this.relay.updateOne({ _id: RELAY_ID, position: { $lt: position } }, { $set: { position } });
  }

  async position(): Promise<number> {
    return (await this.relay.findOne({ _id: RELAY_ID }))?.position ?? 0;
  }

  async list(query: EventQuery): Promise<StoredEvent[]> {
    const upTo = await this.position();
    const filter: Filter<EventDoc> = { sequence: { $gt: query.after, $lte: upTo } };
    if (query.appId !== undefined) filter.appId = query.appId;
    if (query.type !== undefined) filter.type = query.type;
    if (query.subject !== undefined) filter.subject = query.subject;
    const docs = await this.events.find(filter).sort({ sequence: 1 }).limit(query.limit).toArray();
    return docs.map((doc) => strip(doc) as StoredEvent);
  }
}

class MongoSubscriptions implements SubscriptionRepository {
  constructor(
    private readonly subscriptions: Collection<SubscriptionDoc>,
    private readonly deadLetters: Collection<DeadLetterDoc>,
  ) {}

  private docOf(s: Subscription): SubscriptionDoc {
    return {
      _id: idForKey(s.id),
      id: s.id,
      owner: s.owner,
      created: s.created,
      version: s.version,
      nextAttemptAt: s.delivery.nextAttemptAt,
      leaseUntil: s.delivery.leaseUntil ?? null,
      doc: s,
    };
  }

  async insert(s: Subscription): Promise<void> {
    await this.subscriptions.insertOne(this.docOf(s));
  }

  async get(id: string): Promise<Subscription | null> {
    return (await this.subscriptions.findOne({ _id: idForKey(id) }))?.doc ?? null;
  }

  async listByOwner(owner: string): Promise<Subscription[]> {
    const docs = await this.subscriptions.find({ owner }).sort({ created: 1, id: 1 }).toArray();
    return docs.map((d) => d.doc);
  }

  async listDue(now: number, limit: number): Promise<Subscription[]> {
    const docs = await this.subscriptions
      .find({ nextAttemptAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] })
      .sort({ nextAttemptAt: 1, id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d.doc);
  }

  async replace(s: Subscription, expectedVersion: number): Promise<boolean> {
    const result = await this.subscriptions.replaceOne({ _id: idForKey(s.id), version: expectedVersion }, this.docOf(s));
    return result.matchedCount === 1;
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.subscriptions.deleteOne({ _id: idForKey(id) });
    await this.deadLetters.deleteMany({ subscriptionId: id });
    return result.deletedCount === 1;
  }
}

class MongoDeadLetters implements DeadLetterRepository {
  constructor(private readonly letters: Collection<DeadLetterDoc>) {}

  async put(letter: DeadLetter): Promise<void> {
    const _id = idForKey(`${letter.subscriptionId}/${letter.sequence}`);
    const doc: DeadLetterDoc = { _id, subscriptionId: letter.subscriptionId, sequence: letter.sequence, replay: letter.replayRequested, doc: letter };
    await this.letters.replaceOne({ _id }, doc, { upsert: true });
  }

  async list(subscriptionId: string, limit: number): Promise<DeadLetter[]> {
    return (await this.letters.find({ subscriptionId }).sort({ sequence: 1 }).limit(limit).toArray()).map((d) => d.doc);
  }

  async listReplayRequested(subscriptionId: string, limit: number): Promise<DeadLetter[]> {
    return (await this.letters.find({ subscriptionId, replay: true }).sort({ sequence: 1 }).limit(limit).toArray()).map((d) => d.doc);
  }

  async remove(subscriptionId: string, sequence: number): Promise<boolean> {
    return (await this.letters.deleteOne({ _id: idForKey(`${subscriptionId}/${sequence}`) })).deletedCount === 1;
  }
}
