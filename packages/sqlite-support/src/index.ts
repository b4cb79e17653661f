import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export { GroupCommit, GroupCommitClosedError, WalSyncError, type GroupCommitOptions } from './group-commit';
export { BackgroundCheckpointer, type BackgroundCheckpointOptions } from './background-checkpoint';
export { driverPath } from './driver';
export { assertSeparateFolders, BackupTargetError, snapshotDatabase } from './snapshot';
export { copyFileDurably, syncDirectory, syncFileData } from './durable-files';
export { openReadOnly } from './read-only';

/** One schema step. Steps run in order, each in its own transaction; `PRAGMA user_version` counts the steps applied. */
export type Migration = (db: SqliteDatabase) => void;

export interface OpenSqliteOptions {
  /** The schema, oldest step first. Never edit or reorder a released step: append a new one. */
  migrations: readonly Migration[];
  /** Who holds the lock, for the error a second process gets, e.g. `storage`. */
  owner: string;
}

export interface OpenedSqlite {
  db: SqliteDatabase;
  /** The previous process did not close the database (killed, crashed, power lost): worth an integrity check. */
  uncleanShutdown: boolean;
  /** Releases the lock and closes; a clean close checkpoints and removes the write-ahead log. */
  close(): void;
}

/** Another process has the database open. Its message is one stable line. */
export class DatabaseLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(readonly path: string, owner: string) {
    super(`${path} is in use by another ${owner} process (one process per DATA_DIR): stop it or use another DATA_DIR`);
    this.name = 'DatabaseLockedError';
  }
}

/** The file is not a database or is damaged beyond opening. */
export class DatabaseCorruptError extends Error {
  readonly code = 'DATABASE_CORRUPT';
  constructor(readonly path: string, detail: string, options?: { cause?: unknown }) {
    super(`${path} is damaged (${detail}): see the README's "Repairing the embedded database"`, options);
    this.name = 'DatabaseCorruptError';
  }
}

/**
 * Opens (creating if need be) an SQLite database for one process: WAL, `synchronous = FULL` (a commit
 * is on disk before it is acknowledged, also across power loss), and a lock that refuses a second
 * process. The lock is a companion file `<path>.lock` held in SQLite's EXCLUSIVE locking mode: the
 * operating system releases it when the process dies, however it dies, and the database itself keeps
 * normal locking so that a worker thread of the same process can read it (the background integrity check).
 */
export function openSqlite(path: string, options: OpenSqliteOptions): OpenedSqlite {
  mkdirSync(dirname(path), { recursive: true });
  const lock = acquireLock(`${path}.lock`, path, options.owner);
  try {
    const uncleanShutdown = fileSize(`${path}-wal`) > 0;
    const db = new Database(path, { timeout: 5_000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, options.migrations);
    } catch (error) {
      db.close();
      if (isCorruptError(error)) throw new DatabaseCorruptError(path, (error as Error).message, { cause: error });
      throw error;
    }
    return {
      db,
      uncleanShutdown,
      close: () => {
        if (db.open) db.close();
        if (lock.open) lock.close();
      },
    };
  } catch (error) {
    lock.close();
    throw error;
  }
}

function acquireLock(lockPath: string, databasePath: string, owner: string): SqliteDatabase {
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock, and EXCLUSIVE mode keeps it until the connection closes.
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (error) {
    lock.close();
    if (sqliteCode(error) === 'SQLITE_BUSY' || sqliteCode(error) === 'SQLITE_LOCKED') throw new DatabaseLockedError(databasePath, owner);
    throw error;
  }
}

function migrate(db: SqliteDatabase, migrations: readonly Migration[]): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new Error(`database schema version ${applied} is newer than this build knows (${migrations.length}): run a newer release`);
  }
  for (let version = applied; version < migrations.length; version += 1) {
    const step = migrations[version] as Migration;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

const fileSize = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** SQLite's primary result code name (`SQLITE_FULL`, ...) of a better-sqlite3 error, if it is one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** The disk (or the database's size limit) is full: the write failed, and nothing of it was stored. */
export const isFullError = (error: unknown): boolean => sqliteCode(error)?.startsWith('SQLITE_FULL') === true || sqliteCode(error) === 'SQLITE_IOERR_WRITE';

export const isCorruptError = (error: unknown): boolean => {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
};

/** Takes the write lock and rolls back: proves the file can be written now (not read-only, locked or damaged). */
export function assertWritable(db: SqliteDatabase): void {
  db.exec('BEGIN IMMEDIATE');
  db.exec('ROLLBACK');
}

/**
 * `PRAGMA quick_check` (`full`: `integrity_check`, which also checks that every index matches its table).
 * Resolves to the problems found; empty when the database is sound.
 */
export function checkIntegrity(db: SqliteDatabase, full = false): string[] {
  const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as Record<string, string>[];
  const messages = rows.map((row) => Object.values(row)[0] ?? '');
  return messages.length === 1 && messages[0] === 'ok' ? [] : messages;
}
