import { join } from 'node:path';
import { assertWritable, openSqlite, type Migration, type OpenedSqlite, type SqliteDatabase } from '@forms/sqlite-support';
import type { DeadLetter, DeadLetterRepository, EventLog, EventQuery, EventStore, StoredEvent, SubscriptionRepository } from '../domain/ports/event-store';
import type { Subscription } from '../domain/subscription';

export const EVENTS_DATABASE_FILE = 'events.sqlite';

/** The schema, one step per release that changed it; never edit a released step. */
const MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE events (sequence INTEGER PRIMARY KEY, app_id TEXT NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX events_by_app ON events (app_id, sequence);
      CREATE INDEX events_by_subject ON events (subject, sequence);
      CREATE TABLE relay (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
      INSERT INTO relay (id, position) VALUES (1, 0);
      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, created TEXT NOT NULL, version INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL, lease_until INTEGER, doc TEXT NOT NULL
      );
      CREATE INDEX subscriptions_by_owner ON subscriptions (owner, created);
      CREATE INDEX subscriptions_by_due ON subscriptions (next_attempt_at);
      CREATE TABLE dead_letters (
        subscription_id TEXT NOT NULL, sequence INTEGER NOT NULL, replay INTEGER NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (subscription_id, sequence)
      ) WITHOUT ROWID;
    `),
];

type Db = () => SqliteDatabase;

/** EventStore on SQLite, the embedded default: `events.sqlite` in DATA_DIR, one process at a time. */
export class SqliteEventStore implements EventStore {
  private opened: OpenedSqlite | undefined;
  readonly events: EventLog;
  readonly subscriptions: SubscriptionRepository;
  readonly deadLetters: DeadLetterRepository;

  constructor(private readonly directory: string) {
    const db: Db = () => {
      if (!this.opened) throw new Error('event store not initialised');
      return this.opened.db;
    };
    this.events = new SqliteEventLog(db);
    this.subscriptions = new SqliteSubscriptions(db);
    this.deadLetters = new SqliteDeadLetters(db);
  }

  async init(): Promise<void> {
    this.opened ??= openSqlite(join(this.directory, EVENTS_DATABASE_FILE), { migrations: MIGRATIONS, owner: 'events service' });
  }

  async ping(): Promise<void> {
    if (!this.opened) throw new Error('event store not initialised');
    assertWritable(this.opened.db);
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    opened?.close();
  }
}

class SqliteEventLog implements EventLog {
  constructor(private readonly db: Db) {}

  async append(events: StoredEvent[], position: number): Promise<void> {
    const db = this.db();
    const insert = db.prepare('INSERT OR IGNORE INTO events (sequence, app_id, type, subject, doc) VALUES (?, ?, ?, ?, ?)');
    const move = db.prepare('UPDATE relay SET position = ? WHERE id = 1 AND position < ?');
    db.transaction(() => {
      for (const e of events) insert.run(e.sequence, e.appId, e.type, e.subject, JSON.stringify(e));
      move.run(position, position);
    })();
  }

  async position(): Promise<number> {
    return (this.db().prepare<[], { position: number }>('SELECT position FROM relay WHERE id = 1').get() as { position: number }).position;
  }

  async list(query: EventQuery): Promise<StoredEvent[]> {
    const clauses = ['sequence > ?', 'sequence <= (SELECT position FROM relay WHERE id = 1)'];
    const params: (string | number)[] = [query.after];
    if (query.appId !== undefined) (clauses.push('app_id = ?'), params.push(query.appId));
    if (query.type !== undefined) (clauses.push('type = ?'), params.push(query.type));
    if (query.subject !== undefined) (clauses.push('subject = ?'), params.push(query.subject));
    const sql = `SELECT doc FROM events WHERE ${clauses.join(' AND ')} ORDER BY sequence LIMIT ?`;
    const rows = this.db().prepare<(string | number)[], { doc: string }>(sql).all(...params, query.limit);
    return rows.map((row) => JSON.parse(row.doc) as StoredEvent);
  }
}

class SqliteSubscriptions implements SubscriptionRepository {
  constructor(private readonly db: Db) {}

  async insert(s: Subscription): Promise<void> {
    this.db()
      .prepare('INSERT INTO subscriptions (id, owner, created, version, next_attempt_at, lease_until, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.owner, s.created, s.version, s.delivery.nextAttemptAt, s.delivery.leaseUntil ?? null, JSON.stringify(s));
  }

  async get(id: string): Promise<Subscription | null> {
    const row = this.db().prepare<[string], { doc: string }>('SELECT doc FROM subscriptions WHERE id = ?').get(id);
    return row ? (JSON.parse(row.doc) as Subscription) : null;
  }

  async listByOwner(owner: string): Promise<Subscription[]> {
    const rows = this.db().prepare<[string], { doc: string }>('SELECT doc FROM subscriptions WHERE owner = ? ORDER BY created, id').all(owner);
    return rows.map((row) => JSON.parse(row.doc) as Subscription);
  }

  async listDue(now: number, limit: number): Promise<Subscription[]> {
    const rows = this.db()
      .prepare<[number, number, number], { doc: string }>(
        'SELECT doc FROM subscriptions WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?',
      )
      .all(now, now, limit);
    return rows.map((row) => JSON.parse(row.doc) as Subscription);
  }

  async replace(s: Subscription, expectedVersion: number): Promise<boolean> {
    const result = this.db()
      .prepare('UPDATE subscriptions SET version = ?, next_attempt_at = ?, lease_until = ?, doc = ? WHERE id = ? AND version = ?')
      .run(s.version, s.delivery.nextAttemptAt, s.delivery.leaseUntil ?? null, JSON.stringify(s), s.id, expectedVersion);
    return result.changes === 1;
  }

  async remove(id: string): Promise<boolean> {
    const db = this.db();
    return db.transaction(() => {
      db.prepare('DELETE FROM dead_letters WHERE subscription_id = ?').run(id);
      return db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id).changes === 1;
    })();
  }
}

class SqliteDeadLetters implements DeadLetterRepository {
  constructor(private readonly db: Db) {}

  async put(letter: DeadLetter): Promise<void> {
    this.db()
      .prepare('INSERT OR REPLACE INTO dead_letters (subscription_id, sequence, replay, doc) VALUES (?, ?, ?, ?)')
      .run(letter.subscriptionId, letter.sequence, letter.replayRequested ? 1 : 0, JSON.stringify(letter));
  }

  async list(subscriptionId: string, limit: number): Promise<DeadLetter[]> {
    const rows = this.db().prepare<[string, number], { doc: string }>('SELECT doc FROM dead_letters WHERE subscription_id = ? ORDER BY sequence LIMIT ?').all(subscriptionId, limit);
    return rows.map((row) => JSON.parse(row.doc) as DeadLetter);
  }

  async listReplayRequested(subscriptionId: string, limit: number): Promise<DeadLetter[]> {
    const rows = this.db()
      .prepare<[string, number], { doc: string }>('SELECT doc FROM dead_letters WHERE subscription_id = ? AND replay = 1 ORDER BY sequence LIMIT ?')
      .all(subscriptionId, limit);
    return rows.map((row) => JSON.parse(row.doc) as DeadLetter);
  }

  async remove(subscriptionId: string, sequence: number): Promise<boolean> {
    return this.db().prepare('DELETE FROM dead_letters WHERE subscription_id = ? AND sequence = ?').run(subscriptionId, sequence).changes === 1;
  }
}
