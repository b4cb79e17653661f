/**
 * GroupCommit.read on a real SQLite file: the reads of one turn of the event loop share one read transaction,
 * which never holds up a batch of writes and never outlives its turn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit, openSqlite, type OpenedSqlite } from '../src';

const MIGRATIONS = [(db: Database.Database) => db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL)')];

let folder: string;
let opened: OpenedSqlite;
let commits: GroupCommit;
let count: () => number;
let insert: (id: number) => void;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'shared-reads-'));
  opened = openSqlite(join(folder, 'test.sqlite'), { migrations: MIGRATIONS, owner: 'test' });
  commits = new GroupCommit(opened.db);
  const counting = opened.db.prepare('SELECT count(*) FROM items').pluck();
  const inserting = opened.db.prepare('INSERT INTO items (id, label) VALUES (?, ?)');
  count = () => counting.get() as number;
  insert = (id) => void inserting.run(id, `item ${id}`);
});
afterEach(() => {
  commits.close();
  opened.close();
  rmSync(folder, { recursive: true, force: true });
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A write committed by another connection to the file. */
function insertFromOutside(id: number): void {
  const other = new Database(join(folder, 'test.sqlite'));
  try {
    other.prepare('INSERT INTO items (id, label) VALUES (?, ?)').run(id, 'from outside');
  } finally {
    other.close();
  }
}

test('the reads of one turn share one snapshot, and the next turn reads afresh', async () => {
  expect(commits.read(count)).toBe(0);
  expect(opened.db.inTransaction).toBe(true);
  insertFromOutside(1);
  // Same turn, same read transaction: the other connection's commit is not in its snapshot.
  expect(commits.read(count)).toBe(0);
  await nextTurn();
  expect(opened.db.inTransaction).toBe(false);
  expect(commits.read(count)).toBe(1);
});

test('a batch of writes ends the read transaction of its turn first, and later reads see the writes', async () => {
  expect(commits.read(count)).toBe(0);
  const written = [commits.run(() => insert(1)), commits.run(() => insert(2))];
  expect(commits.read(count)).toBe(0);
  await Promise.all(written);
  expect(commits.read(count)).toBe(2);
  expect(commits.stats).toMatchObject({ commits: 1, writes: 2 });
});

test('a read inside a write joins the write\'s transaction and sees what the write did so far', async () => {
  const seen = await commits.run(() => {
    insert(1);
    return commits.read(count);
  });
  expect(seen).toBe(1);
});

test('endRead lets the connection out of the transaction at once, for statements that need it (BEGIN IMMEDIATE)', () => {
  commits.read(count);
  commits.endRead();
  expect(opened.db.inTransaction).toBe(false);
  expect(() => opened.db.exec('BEGIN IMMEDIATE; ROLLBACK')).not.toThrow();
});

test('close ends the read transaction, and the end of the turn then finds nothing to end', async () => {
  commits.read(count);
  commits.close();
  expect(opened.db.inTransaction).toBe(false);
  opened.close();
  await nextTurn(); // would throw from setImmediate (uncaught) if it still tried to COMMIT on the closed connection
  // Reopened for afterEach.
  opened = openSqlite(join(folder, 'test.sqlite'), { migrations: MIGRATIONS, owner: 'test' });
  commits = new GroupCommit(opened.db);
});
