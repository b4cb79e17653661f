/**
 * Group commit on a real SQLite file: writes of one event-loop turn share one transaction, each in its own
 * savepoint, and every caller is answered only once the shared commit is visible to another connection.
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit, GroupCommitClosedError, openSqlite, WalSyncError, type OpenedSqlite } from '../src';

const MIGRATIONS = [
  (db: Database.Database) =>
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
             CREATE TABLE parents (id INTEGER PRIMARY KEY);
             CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);`),
];

let folder: string;
let opened: OpenedSqlite;
let commits: GroupCommit;
let insert: Database.Statement;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'group-commit-'));
  opened = openSqlite(join(folder, 'test.sqlite'), { migrations: MIGRATIONS, owner: 'test' });
  commits = new GroupCommit(opened.db);
  insert = opened.db.prepare('INSERT INTO items (id, label) VALUES (?, ?)');
});
afterEach(() => {
  commits.close();
  opened.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Another connection to the same file: it sees only what is committed. */
function countFromOutside(): number {
  const other = new Database(join(folder, 'test.sqlite'), { readonly: true });
  try {
    return (other.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  } finally {
    other.close();
  }
}

test('writes of one turn share one commit, and each caller is answered once it is committed', async () => {
  const seenWhenAnswered: number[] = [];
  const writes = Array.from({ length: 50 }, (_, id) =>
    commits.run(() => insert.run(id, `item ${id}`).changes).then((changes) => {
      seenWhenAnswered.push(countFromOutside());
      return changes;
    }),
  );
  // Nothing runs before the batch: a read now sees none of them.
  expect(countFromOutside()).toBe(0);
  expect(commits.pending).toBe(50);
  expect(await Promise.all(writes)).toEqual(Array(50).fill(1));
  expect(seenWhenAnswered.every((count) => count === 50)).toBe(true);
  expect(commits.stats).toEqual({ commits: 1, writes: 50, syncs: 1 });
});

test('a failing write is rolled back alone; the others of its batch are committed', async () => {
  const results = await Promise.allSettled([
    commits.run(() => insert.run(1, 'first')),
    commits.run(() => {
      insert.run(2, 'written, then undone with its savepoint');
      insert.run(1, 'duplicate key');
    }),
    commits.run(() => insert.run(3, 'third')),
  ]);
  expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  expect(opened.db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual([1, 3]);
  expect(commits.stats).toEqual({ commits: 1, writes: 2, syncs: 1 });
});

test('a nested db.transaction inside a write becomes a savepoint of the batch', async () => {
  const pair = opened.db.transaction((id: number) => {
    insert.run(id, 'a');
    insert.run(id + 1000, 'b');
  });
  await Promise.all([commits.run(() => pair(1)), commits.run(() => pair(2))]);
  await expect(commits.run(() => pair(1))).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  expect(opened.db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual([1, 2, 1001, 1002]);
});

test('when the commit fails, every write of the batch fails and nothing of it is stored', async () => {
  const results = await Promise.allSettled([
    commits.run(() => insert.run(1, 'innocent')),
    // A deferred foreign key is checked at COMMIT: the whole batch's commit fails.
    commits.run(() => opened.db.prepare('INSERT INTO children (id, parent) VALUES (1, 99)').run()),
  ]);
  expect(results.every((result) => result.status === 'rejected')).toBe(true);
  expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
  expect(opened.db.inTransaction).toBe(false);
  expect(countFromOutside()).toBe(0);
  // The next batch is unaffected.
  await commits.run(() => insert.run(2, 'later'));
  expect(countFromOutside()).toBe(1);
});

test('when SQLite rolls the whole transaction back after a write, the failing write fails and the others run again', async () => {
  const results = await Promise.allSettled([
    commits.run(() => insert.run(1, 'before')),
    commits.run(() => {
      insert.run(2, 'lost with the transaction');
      opened.db.exec('ROLLBACK'); // what SQLite itself does on some SQLITE_FULL / IOERR / NOMEM errors
      throw new Error('disk trouble');
    }),
    commits.run(() => insert.run(3, 'after')),
  ]);
  expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(opened.db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual([1, 3]);
});

test('a batch holds at most maxBatch writes; the rest follow in the next one', async () => {
  const small = new GroupCommit(opened.db, { maxBatch: 10 });
  await Promise.all(Array.from({ length: 25 }, (_, id) => small.run(() => insert.run(id, 'x'))));
  expect(small.stats).toMatchObject({ commits: 3, writes: 25 });
  small.close();
});

test('close commits what is queued, then refuses new writes', async () => {
  const queued = commits.run(() => insert.run(1, 'queued before close'));
  commits.close();
  await expect(queued).resolves.toMatchObject({ changes: 1 });
  expect(countFromOutside()).toBe(1);
  await expect(commits.run(() => insert.run(2, 'too late'))).rejects.toBeInstanceOf(GroupCommitClosedError);
});

test('a write that returns a promise is refused and undone', async () => {
  await expect(
    commits.run(() => {
      insert.run(1, 'undone');
      return Promise.resolve();
    }),
  ).rejects.toThrow('synchronous');
  expect(countFromOutside()).toBe(0);
});

test('the database runs with synchronous NORMAL: the sync of the log is the committer\'s, off the event loop', async () => {
  expect(opened.db.pragma('synchronous', { simple: true })).toBe(1);
  const synced: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const gated = new GroupCommit(opened.db, {
    syncFile: async (path) => {
      synced.push(path);
      await gate;
    },
  });
  let answered = false;
  const first = gated.run(() => insert.run(1, 'waits for its sync')).then(() => (answered = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Committed (visible to another connection) but not answered: its sync has not returned.
  expect(countFromOutside()).toBe(1);
  expect(answered).toBe(false);
  // Writes that arrive while that sync is under way, over several turns, wait for it and then commit together.
  const later: Promise<unknown>[] = [];
  for (let id = 2; id <= 4; id += 1) {
    later.push(gated.run(() => insert.run(id, 'later')));
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(countFromOutside()).toBe(1);
  expect(gated.pending).toBe(3);
  release();
  await Promise.all([first, ...later]);
  expect(answered).toBe(true);
  expect(countFromOutside()).toBe(4);
  expect(synced).toEqual([join(folder, 'test.sqlite-wal'), join(folder, 'test.sqlite-wal')]);
  expect(gated.stats).toEqual({ commits: 2, writes: 4, syncs: 2 });
  gated.close();
});

/** Descriptors this process holds on `path` (Linux). */
function openDescriptorsOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed while listing
    }
  }).length;
}

test('the log is opened once for its syncs, not per sync, and closed with the committer', async () => {
  const wal = join(folder, 'test.sqlite-wal');
  await commits.run(() => insert.run(1, 'a'));
  const held = openDescriptorsOn(wal); // SQLite's own and the committer's
  for (let id = 2; id <= 20; id += 1) await commits.run(() => insert.run(id, 'b'));
  expect(commits.stats.syncs).toBeGreaterThanOrEqual(20);
  expect(openDescriptorsOn(wal)).toBe(held);
  commits.close();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the close of the kept descriptor is asynchronous
  expect(openDescriptorsOn(wal)).toBe(held - 1);
});

/** Descriptors this process holds on files that are gone: SQLite's temporary files are deleted when opened. */
function openDeletedFiles(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.endsWith(' (deleted)') ? [target] : [];
    } catch {
      return []; // closed while listing
    }
  });
}

test('the savepoints of a batch journal the pages they change in memory, not in a temporary file', async () => {
  expect(opened.db.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
  // 40 rows of ~3 KB: a page each.
  await commits.run(() => {
    for (let id = 0; id < 40; id += 1) insert.run(id, 'x'.repeat(3_000));
  });
  const update = opened.db.prepare('UPDATE items SET label = ? WHERE id = ?');
  const before = openDeletedFiles();
  const duringBatch: string[][] = [];
  // Each write changes 20 of those pages, and its savepoint copies them first: 80 KiB, past the 64 KiB after which
  // SQLite would otherwise move its statement journal to a temporary file (deleted as soon as it is opened).
  const writes = Array.from({ length: 10 }, (_, write) =>
    commits.run(() => {
      for (let row = 0; row < 20; row += 1) update.run(`write ${write} `.padEnd(3_000, 'y'), (write * 20 + row) % 40);
      duringBatch.push(openDeletedFiles());
    }),
  );
  await Promise.all(writes);
  expect(commits.stats).toEqual({ commits: 2, writes: 11, syncs: 2 });
  expect(duringBatch).toEqual(Array(10).fill(before));
});

test('a failed sync fails its writes, and every later write is refused', async () => {
  const failing = new GroupCommit(opened.db, { syncFile: async () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) });
  await expect(failing.run(() => insert.run(1, 'x'))).rejects.toBeInstanceOf(WalSyncError);
  await expect(failing.run(() => insert.run(2, 'y'))).rejects.toBeInstanceOf(WalSyncError);
  expect(opened.db.prepare('SELECT id FROM items').pluck().all()).toEqual([1]); // committed, never acknowledged
  failing.close();
});

test('synced() resolves once everything committed so far is durable: at once with nothing pending, else after the syncs that carry it', async () => {
  const releases: Array<() => void> = [];
  const gated = new GroupCommit(opened.db, { syncFile: () => new Promise<void>((resolve) => releases.push(resolve)) });
  const turn = () => new Promise((resolve) => setTimeout(resolve, 10));
  const order: string[] = [];
  await expect(Promise.race([gated.synced().then(() => 'resolved'), turn().then(() => 'waiting')])).resolves.toBe('resolved');

  const first = gated.run(() => insert.run(1, 'first')).then(() => order.push('first answered'));
  await turn();
  // One sync under way: a reader of `first` waits for it.
  const afterFirst = gated.synced().then(() => order.push('reader of first'));
  const second = gated.run(() => insert.run(2, 'second')).then(() => order.push('second answered'));
  await turn();
  // `second` is committed after the first sync returns, and rides with the next: a reader of it waits for that one.
  releases.shift()?.();
  await turn();
  const afterSecond = gated.synced().then(() => order.push('reader of second'));
  await turn();
  expect(order).toEqual(['first answered', 'reader of first']);
  releases.shift()?.();
  await Promise.all([first, second, afterFirst, afterSecond]);
  expect(order).toEqual(['first answered', 'reader of first', 'second answered', 'reader of second']);
  gated.close();
});

test('synced() fails with the sync that fails', async () => {
  const failing = new GroupCommit(opened.db, { syncFile: async () => Promise.reject(new Error('EIO: i/o error')) });
  const write = failing.run(() => insert.run(1, 'x')).catch((error: unknown) => error);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  const reader = failing.synced().catch((error: unknown) => error);
  expect(await write).toBeInstanceOf(WalSyncError);
  expect(await reader).toBeInstanceOf(WalSyncError);
  failing.close();
});
