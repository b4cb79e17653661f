/**
 * Checkpoints in a worker thread, on a real SQLite file: the log reaches the database file without the writing
 * connection checkpointing, the worker's connection is gone before the database closes, and a worker that fails
 * leaves checkpoints to the writer.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BackgroundCheckpointer, GroupCommit, openSqlite, type OpenedSqlite } from '../src';
import { eventually } from '@forms/test-support';

const PAGE = 4096;
let folder: string;
let opened: OpenedSqlite;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'background-checkpoint-'));
  opened = openSqlite(join(folder, 'test.sqlite'), {
    migrations: [(db) => db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL)')],
    owner: 'test',
  });
});
afterEach(() => {
  opened.close();
  rmSync(folder, { recursive: true, force: true });
});

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

test('the log is copied into the database file by the worker, while the writer checkpoints only at catchUpPages', async () => {
  const checkpointer = new BackgroundCheckpointer(opened.db, { intervalMs: 20, catchUpPages: 4000 });
  const commits = new GroupCommit(opened.db, { afterCommit: () => checkpointer.committed() });
  expect(opened.db.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
  const insert = opened.db.prepare('INSERT INTO items (id, label) VALUES (?, ?)');
  const databaseFile = join(folder, 'test.sqlite');
  const before = sizeOf(databaseFile);
  // 600 rows of 3 KB, a page each, in several commits: far below the writer's own threshold of 4 000 pages,
  // so whatever reaches the database file was copied there by the worker.
  for (let turn = 0; turn < 6; turn += 1) {
    await Promise.all(Array.from({ length: 100 }, (_, row) => commits.run(() => insert.run(turn * 100 + row, 'x'.repeat(3_000)))));
  }
  // The file grows while the worker copies; its answer follows.
  await eventually(() => sizeOf(databaseFile) - before >= 600 * PAGE && checkpointer.stats.checkpoints >= 1, { intervalMs: 10, what: 'the rows to reach the database file' });
  // Another connection reads them from the database file.
  const reader = new Database(databaseFile, { readonly: true });
  expect((reader.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n).toBe(600);
  reader.close();
  commits.close();
  await checkpointer.close();
});

test('close waits for the worker: its connection is gone, so the database close removes the log', async () => {
  const checkpointer = new BackgroundCheckpointer(opened.db, { intervalMs: 1 });
  const commits = new GroupCommit(opened.db, { afterCommit: () => checkpointer.committed() });
  const insert = opened.db.prepare('INSERT INTO items (id, label) VALUES (?, ?)');
  for (let id = 0; id < 50; id += 1) await commits.run(() => insert.run(id, 'row'));
  await eventually(() => checkpointer.stats.checkpoints >= 1, { intervalMs: 10, what: 'a checkpoint' });
  commits.close();
  await checkpointer.close();
  opened.close();
  // A connection still open elsewhere would have kept the log: SQLite removes it only on the last close.
  expect(existsSync(join(folder, 'test.sqlite-wal'))).toBe(false);
  expect(checkpointer.stats.checkpoints).toBeGreaterThanOrEqual(1);
  checkpointer.committed(); // after close: nothing starts
  await new Promise((resolve) => setTimeout(resolve, 20));
});

test('a worker that cannot open the database reports it once, and checkpoints stay with the writer', async () => {
  const path = join(folder, 'gone.sqlite');
  const gone = new Database(path);
  rmSync(path); // this connection keeps its descriptor; the worker finds no file to open
  const errors: Error[] = [];
  const checkpointer = new BackgroundCheckpointer(gone, { intervalMs: 1, onError: (error) => errors.push(error) });
  checkpointer.committed();
  await eventually(() => errors.length > 0, { intervalMs: 10, what: 'the error' });
  checkpointer.committed();
  checkpointer.committed();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(errors).toHaveLength(1);
  expect(checkpointer.stats.checkpoints).toBe(0);
  await checkpointer.close(); // resolves: the worker is gone
  gone.close();
});
