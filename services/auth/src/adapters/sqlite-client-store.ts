import { join } from 'node:path';
import { assertWritable, openSqlite, sqliteCode, type Migration, type OpenedSqlite } from '@forms/sqlite-support';
import type { ClientRecord } from '../domain/clients';
import { DuplicateClientError, type ClientStore, type RateLimitCount } from '../domain/ports/client-store';
import { importClientJournals } from './client-journal-import';
import { clientStoreUnavailable } from './store-errors';

export const CLIENTS_DATABASE_FILE = 'clients.sqlite';

/** Expired assertion ids are swept at most this often (on the next use after it). */
const SWEEP_INTERVAL_MS = 60_000;

/** The schema, one step per release that changed it; never edit a released step. */
const MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE clients (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE assertion_ids (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, jti)
      ) WITHOUT ROWID;
      CREATE INDEX assertion_ids_by_expiry ON assertion_ids (expires_at);
    `),
  // 2: rate-limit windows (countHit).
  (db) =>
    db.exec(`
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        count INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX rate_limits_by_start ON rate_limits (window_start);
    `),
];

/**
 * ClientStore on SQLite, the embedded default: `clients.sqlite` in DATA_DIR, WAL with synchronous FULL,
 * one process at a time (a second is refused when it opens the database).
 */
export class SqliteClientStore implements ClientStore {
  private opened: OpenedSqlite | undefined;
  private lastSweep = 0;
  private lastRateSweep = 0;

  /** `legacyJournalDirectory`: where the earlier embedded store kept its journals (`DATA_DIR/db`), imported on first start. */
  constructor(
    private readonly directory: string,
    private readonly legacyJournalDirectory?: string,
  ) {}

  async init(): Promise<void> {
    if (this.opened) return;
    const opened = openSqlite(join(this.directory, CLIENTS_DATABASE_FILE), { migrations: MIGRATIONS, owner: 'token service' });
    try {
      if (this.legacyJournalDirectory) await importClientJournals(opened.db, this.legacyJournalDirectory);
    } catch (error) {
      opened.close();
      throw error;
    }
    this.opened = opened;
  }

  async ping(): Promise<void> {
    const db = this.db();
    translate(() => assertWritable(db));
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    opened?.close();
  }

  async getClient(clientId: string): Promise<ClientRecord | null> {
    const row = translate(() => this.db().prepare<[string], { doc: string }>('SELECT doc FROM clients WHERE client_id = ?').get(clientId));
    return row === undefined ? null : (JSON.parse(row.doc) as ClientRecord);
  }

  async listClients(): Promise<ClientRecord[]> {
    const rows = translate(() => this.db().prepare<[], { doc: string }>('SELECT doc FROM clients ORDER BY client_id').all());
    return rows.map((row) => JSON.parse(row.doc) as ClientRecord);
  }

  async insertClient(client: ClientRecord): Promise<void> {
    translate(() => this.db().prepare('INSERT INTO clients (client_id, doc) VALUES (?, ?)').run(client.clientId, JSON.stringify(client)), client.clientId);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return translate(() => this.db().prepare('DELETE FROM clients WHERE client_id = ?').run(clientId).changes === 1);
  }

  async rememberAssertionId(clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    const db = this.db();
    if (now.getTime() - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = now.getTime();
      translate(() => db.prepare('DELETE FROM assertion_ids WHERE expires_at <= ?').run(now.getTime()));
    }
    // One statement: a new pair is inserted, an expired one (its use can no longer be replayed) taken over, a live one left alone.
    const result = translate(() =>
      db
        .prepare(
          `INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE assertion_ids.expires_at <= ?`,
        )
        .run(clientId, jti, expiresAt.getTime(), now.getTime()),
    );
    return result.changes === 1;
  }

  async countHit(key: string, windowMs: number): Promise<RateLimitCount> {
    const db = this.db();
    // One process per database file, so its clock is the only one: a window starts with the first hit after the last ended.
    const now = Date.now();
    const row = translate(() =>
      db
        .prepare<[{ key: string; now: number; window: number }], { window_start: number; count: number }>(
          `INSERT INTO rate_limits (key, window_start, count) VALUES (@key, @now, 1)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN window_start + @window <= excluded.window_start THEN 1 ELSE count + 1 END,
             window_start = CASE WHEN window_start + @window <= excluded.window_start THEN excluded.window_start ELSE window_start END
           RETURNING window_start, count`,
        )
        .get({ key, now, window: windowMs }),
    ) as { window_start: number; count: number };
    if (now - this.lastRateSweep >= SWEEP_INTERVAL_MS) {
      this.lastRateSweep = now;
      translate(() => db.prepare('DELETE FROM rate_limits WHERE window_start <= ?').run(now - 24 * 3_600_000));
    }
    return { count: row.count, resetInMs: Math.max(0, row.window_start + windowMs - now) };
  }

  private db() {
    const db = this.opened?.db;
    if (!db) throw clientStoreUnavailable('the SQLite client store is not open (call init first)');
    return db;
  }
}

function translate<T>(operation: () => T, insertedClientId?: string): T {
  try {
    return operation();
  } catch (error) {
    const code = sqliteCode(error);
    if (code === undefined) throw error;
    if (insertedClientId !== undefined && code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new DuplicateClientError(insertedClientId);
    throw clientStoreUnavailable(`client store unavailable: ${(error as Error).message}`, error);
  }
}
