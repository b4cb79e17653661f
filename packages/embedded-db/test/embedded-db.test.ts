import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DatabaseUnavailableError,
  DuplicateIdError,
  EmbeddedDatabase,
  JournalCorruptError,
  type EmbeddedDatabaseOptions,
} from '@forms/embedded-db';

interface Note {
  title: string;
  version: number;
  tags: string[];
  note?: string;
}

const note = (title: string, version = 1): Note => ({ title, version, tags: [] });

let directory: string;
const openDatabases: EmbeddedDatabase[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'embedded-db-'));
});

afterEach(async () => {
  for (const db of openDatabases.splice(0)) await db.close();
  await rm(directory, { recursive: true, force: true });
});

async function openNotes(options?: EmbeddedDatabaseOptions) {
  const db = await EmbeddedDatabase.open(directory, options);
  openDatabases.push(db);
  return { db, notes: await db.collection<Note>('notes') };
}

/** Closes the database, as a process stopping would, and opens the folder again. */
async function reopen(db: EmbeddedDatabase, options?: EmbeddedDatabaseOptions) {
  await db.close();
  return openNotes(options);
}

const journalLines = async (name = 'notes') =>
  (await readFile(join(directory, `${name}.jsonl`), 'utf8')).split('\n').filter((line) => line !== '');

describe('EmbeddedCollection', () => {
  it('stores, finds and removes documents', async () => {
    const { notes } = await openNotes();
    await notes.insert('a', note('alpha'));
    await notes.put('b', note('beta'));
    await notes.put('c', note('gamma'));

    expect(notes.get('a')).toEqual(note('alpha'));
    expect(notes.get('missing')).toBeUndefined();
    expect(notes.count()).toBe(3);
    expect(notes.has('b')).toBe(true);

    expect(await notes.remove('b')).toBe(true);
    expect(await notes.remove('b')).toBe(false);
    expect(notes.count()).toBe(2);
  });

  it('returns copies, so neither the caller of a read nor of a write can change the stored state', async () => {
    const { notes } = await openNotes();
    const written = note('alpha');
    await notes.put('a', written);
    written.tags.push('changed after the write');

    const read = notes.get('a');
    read?.tags.push('changed after the read');
    notes.find(() => true)[0]?.tags.push('changed after find');

    expect(notes.get('a')).toEqual(note('alpha'));
  });

  it('keeps JSON semantics, so memory matches what a restart replays', async () => {
    const { notes } = await openNotes();
    await notes.put('a', { ...note('alpha'), note: undefined });
    expect(Object.keys(notes.get('a') ?? {})).not.toContain('note');
    await expect(notes.put('b', { ...note('beta'), version: 10n as unknown as number })).rejects.toThrow(TypeError);
    expect(notes.has('b')).toBe(false);
  });

  it('rejects an insert of an existing id with DuplicateIdError and keeps the original', async () => {
    const { notes } = await openNotes();
    await notes.insert('a', note('alpha'));
    const error = await notes.insert('a', note('other')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DuplicateIdError);
    expect(error).toMatchObject({ collection: 'notes', id: 'a' });
    expect(notes.get('a')).toEqual(note('alpha'));
    expect(await journalLines()).toHaveLength(1);
  });

  it('lets exactly one of two concurrent inserts of the same id win', async () => {
    const { notes } = await openNotes();
    const results = await Promise.allSettled([notes.insert('a', note('first')), notes.insert('a', note('second'))]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(notes.get('a')).toEqual(note('first'));
  });

  it('replaces only when the precondition holds', async () => {
    const { notes } = await openNotes();
    await notes.insert('a', note('alpha', 1));
    const isVersion = (expected: number) => (current: Readonly<Note>) => current.version === expected;

    expect(await notes.replaceIf('a', note('stale', 5), isVersion(3))).toBe(false);
    expect(await notes.replaceIf('a', note('alpha 2', 2), isVersion(1))).toBe(true);
    expect(await notes.replaceIf('missing', note('x'), () => true)).toBe(false);
    expect(notes.get('a')).toEqual(note('alpha 2', 2));

    // Optimistic concurrency: of two writers that read version 2, only the first succeeds.
    const outcomes = await Promise.all([
      notes.replaceIf('a', note('writer one', 3), isVersion(2)),
      notes.replaceIf('a', note('writer two', 3), isVersion(2)),
    ]);
    expect(outcomes).toEqual([true, false]);
    expect(notes.get('a')?.title).toBe('writer one');
  });

  it('finds with a predicate, sort order and limit', async () => {
    const { notes } = await openNotes();
    for (const [id, version] of [['a', 3], ['b', 1], ['c', 2], ['d', 5]] as const) await notes.put(id, note(id, version));

    const byVersion = (a: Readonly<Note>, b: Readonly<Note>) => a.version - b.version;
    expect(notes.find((doc) => doc.version > 1, { compare: byVersion }).map((doc) => doc.title)).toEqual(['c', 'a', 'd']);
    expect(notes.find((doc) => doc.version > 1, { compare: byVersion, limit: 2 }).map((doc) => doc.title)).toEqual(['c', 'a']);
    expect(notes.find(() => true, { limit: 0 })).toEqual([]);
    expect(notes.find((doc) => doc.version > 10)).toEqual([]);
  });

  it('removes every matching document', async () => {
    const { db, notes } = await openNotes();
    for (const id of ['a', 'b', 'c']) await notes.put(id, note(id, id === 'b' ? 2 : 1));
    expect(await notes.removeWhere((doc) => doc.version === 1)).toBe(2);
    expect(await notes.removeWhere((doc) => doc.version === 1)).toBe(0);

    const reopened = await reopen(db);
    expect(reopened.notes.find(() => true).map((doc) => doc.title)).toEqual(['b']);
  });
});

describe('persistence', () => {
  it('survives close and reopen', async () => {
    const { db, notes } = await openNotes();
    await notes.insert('a', note('alpha'));
    await notes.put('b', note('beta'));
    await notes.put('b', note('beta 2', 2));
    await notes.replaceIf('a', note('alpha 2', 2), (current) => current.version === 1);
    await notes.put('c', note('gamma'));
    await notes.remove('c');

    const reopened = await reopen(db);
    expect(reopened.notes.count()).toBe(2);
    expect(reopened.notes.get('a')).toEqual(note('alpha 2', 2));
    expect(reopened.notes.get('b')).toEqual(note('beta 2', 2));
    expect(reopened.notes.get('c')).toBeUndefined();
  });

  it('keeps collections apart', async () => {
    const { db, notes } = await openNotes();
    const others = await db.collection<Note>('others');
    await notes.put('a', note('in notes'));
    await others.put('a', note('in others'));

    await db.close();
    const reopened = await EmbeddedDatabase.open(directory);
    openDatabases.push(reopened);
    expect((await reopened.collection<Note>('notes')).get('a')?.title).toBe('in notes');
    expect((await reopened.collection<Note>('others')).get('a')?.title).toBe('in others');
  });

  it('writes every line whole when many writes are in flight at once', async () => {
    const { db, notes } = await openNotes({ syncWrites: true });
    await Promise.all(Array.from({ length: 200 }, (_, index) => notes.put(`id-${index % 50}`, note(`title ${index}`, index))));
    const lines = await journalLines();
    expect(lines).toHaveLength(200);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();

    const reopened = await reopen(db);
    expect(reopened.notes.count()).toBe(50);
    // The last write of each id wins: id-0 was last written at index 150.
    expect(reopened.notes.get('id-0')).toEqual(note('title 150', 150));
  });

  it('ignores a torn last line and appends cleanly after it', async () => {
    const { db, notes } = await openNotes();
    await notes.put('a', note('alpha'));
    await db.close();
    // A crash in the middle of an append leaves a partial line without its newline.
    await appendFile(join(directory, 'notes.jsonl'), '{"op":"put","id":"b","doc":{"title":"be');

    const afterCrash = await openNotes();
    expect(afterCrash.notes.count()).toBe(1);
    expect(afterCrash.notes.get('b')).toBeUndefined();
    await afterCrash.notes.put('c', note('gamma'));

    const reopened = await reopen(afterCrash.db);
    expect(reopened.notes.find(() => true).map((doc) => doc.title).sort()).toEqual(['alpha', 'gamma']);
    expect(await journalLines()).toHaveLength(2);
  });

  it('treats a complete line without its newline as torn too, since it was never acknowledged', async () => {
    await writeFile(join(directory, 'notes.jsonl'), '{"op":"put","id":"a","doc":{"title":"alpha","version":1,"tags":[]}}');
    const { notes } = await openNotes();
    expect(notes.count()).toBe(0);
  });

  it('refuses a journal that is damaged before its last line', async () => {
    await writeFile(
      join(directory, 'notes.jsonl'),
      '{"op":"put","id":"a","doc":{"title":"alpha","version":1,"tags":[]}}\nnot json\n{"op":"del","id":"a"}\n',
    );
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    const error = await db.collection<Note>('notes').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect(error).toMatchObject({ lineNumber: 2 });
  });

  it('refuses a line that is JSON but not a journal op', async () => {
    await writeFile(join(directory, 'notes.jsonl'), '{"op":"put","id":"a"}\n');
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    await expect(db.collection<Note>('notes')).rejects.toBeInstanceOf(JournalCorruptError);
  });
});

describe('compaction', () => {
  const smallThresholds: EmbeddedDatabaseOptions = { compactionMinLines: 10, compactionRatio: 2 };

  it('rewrites a grown journal on open, keeping the live documents', async () => {
    // Thresholds high enough that nothing is compacted while writing.
    const { db, notes } = await openNotes({ compactionMinLines: 1_000_000 });
    for (let version = 1; version <= 30; version += 1) await notes.put('a', note('alpha', version));
    await notes.put('b', note('beta'));
    await notes.put('gone', note('gone'));
    await notes.remove('gone');
    expect(await journalLines()).toHaveLength(33);

    const reopened = await reopen(db, smallThresholds);
    expect(await journalLines()).toHaveLength(2);
    expect(reopened.notes.get('a')).toEqual(note('alpha', 30));
    expect(reopened.notes.get('b')).toEqual(note('beta'));
    expect(reopened.notes.get('gone')).toBeUndefined();
    expect((await readdir(directory)).sort()).toEqual(['notes.jsonl']);
  });

  it('leaves a journal alone while it is not much longer than the live documents', async () => {
    const { db, notes } = await openNotes({ compactionMinLines: 1_000_000 });
    for (let index = 0; index < 12; index += 1) await notes.put(`id-${index}`, note(`n${index}`));
    await notes.put('id-0', note('n0', 2));
    await reopen(db, smallThresholds);
    expect(await journalLines()).toHaveLength(13);
  });

  it('compacts while running and keeps accepting writes', async () => {
    const { db, notes } = await openNotes(smallThresholds);
    await Promise.all(Array.from({ length: 100 }, (_, index) => notes.put(`id-${index % 3}`, note(`t${index}`, index))));
    for (let version = 1; version <= 20; version += 1) await notes.put('id-0', note('last', version));
    expect((await journalLines()).length).toBeLessThan(20);

    const reopened = await reopen(db, smallThresholds);
    expect(reopened.notes.count()).toBe(3);
    expect(reopened.notes.get('id-0')).toEqual(note('last', 20));
    expect(reopened.notes.get('id-1')).toEqual(note('t97', 97));
    expect(reopened.notes.get('id-2')).toEqual(note('t98', 98));
  });

  it('discards a compaction that a crash interrupted', async () => {
    const { db, notes } = await openNotes();
    await notes.put('a', note('alpha'));
    await db.close();
    await writeFile(join(directory, 'notes.jsonl.compacting'), '{"op":"put","id":"half-writ');

    const reopened = await openNotes();
    expect(reopened.notes.find(() => true)).toEqual([note('alpha')]);
    expect(await readdir(directory)).toEqual(['notes.jsonl']);
  });
});

describe('EmbeddedDatabase', () => {
  it('rejects collection names that are not plain file names', async () => {
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    for (const name of ['', '../escape', 'a/b', 'with space', 'x'.repeat(101)]) {
      await expect(db.collection(name)).rejects.toThrow(TypeError);
    }
  });

  it('hands out one instance per collection name', async () => {
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    const [first, second] = await Promise.all([db.collection<Note>('notes'), db.collection<Note>('notes')]);
    expect(first).toBe(second);
  });

  it('reports unavailable after close', async () => {
    const { db, notes } = await openNotes();
    await notes.put('a', note('alpha'));
    await expect(db.check()).resolves.toBeUndefined();

    await db.close();
    await expect(db.check()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(() => notes.get('a')).toThrow(DatabaseUnavailableError);
    await expect(notes.put('b', note('beta'))).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(db.collection('notes')).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('finishes pending writes before closing', async () => {
    const { db, notes } = await openNotes();
    const writes = Array.from({ length: 20 }, (_, index) => notes.put(`id-${index}`, note(`n${index}`)));
    await db.close();
    await Promise.all(writes);
    expect(await journalLines()).toHaveLength(20);
  });
});
