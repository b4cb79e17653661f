import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase, type CollectionIndexes, type EmbeddedCollection, type EmbeddedDatabaseOptions } from '@forms/embedded-db';

interface Event {
  owner: string;
  at: string;
  kind: string;
}

/** Index order: `at`, then (inside the collection) id. */
const byAt = (a: Readonly<Event>, b: Readonly<Event>): number => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
const byOwner = (doc: Readonly<Event>): string => doc.owner;
const indexes: CollectionIndexes<Event> = { groupBy: byOwner, orderBy: byAt };

let directory: string;
const openDatabases: EmbeddedDatabase[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'embedded-db-indexes-'));
});

afterEach(async () => {
  for (const db of openDatabases.splice(0)) await db.close();
  await rm(directory, { recursive: true, force: true });
});

async function openEvents(options?: EmbeddedDatabaseOptions) {
  const db = await EmbeddedDatabase.open(directory, options);
  openDatabases.push(db);
  return { db, events: await db.collection<Event>('events', { indexes }) };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Checks both indexes against the model of the collection (id -> document): every group holds exactly its
 * documents, and the ordered walk returns all documents sorted by (at, id).
 */
function expectConsistent(events: EmbeddedCollection<Event>, model: Map<string, Event>): void {
  expect(events.count()).toBe(model.size);
  const owners = new Set([...model.values()].map((doc) => doc.owner));
  owners.add('nobody');
  for (const owner of owners) {
    const expected = [...model.values()].filter((doc) => doc.owner === owner);
    expect(sortEvents(events.findInGroup(owner, () => true))).toEqual(sortEvents(expected));
  }
  const sorted = [...model.entries()].sort(([aId, a], [bId, b]) => byAt(a, b) || compareIds(aId, bId)).map(([, doc]) => doc);
  expect(events.findOrdered(() => true)).toEqual(sorted);
}

const sortEvents = (docs: Event[]): Event[] => [...docs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('collection indexes', () => {
  it('finds a group without the other groups and removes within a group', async () => {
    const { events } = await openEvents();
    await events.insert('1', { owner: 'a', at: '3', kind: 'x' });
    await events.insert('2', { owner: 'b', at: '1', kind: 'x' });
    await events.insert('3', { owner: 'a', at: '2', kind: 'y' });

    const seen: Event[] = [];
    const found = events.findInGroup('a', (doc) => (seen.push(doc), true), { compare: byAt });
    expect(found.map((doc) => doc.at)).toEqual(['2', '3']);
    expect(seen.every((doc) => doc.owner === 'a')).toBe(true);
    expect(events.findInGroup('a', (doc) => doc.kind === 'y')).toEqual([{ owner: 'a', at: '2', kind: 'y' }]);
    expect(events.findInGroup('a', () => true, { compare: byAt, limit: 1 })).toEqual([{ owner: 'a', at: '2', kind: 'y' }]);
    expect(events.findInGroup('missing', () => true)).toEqual([]);

    expect(await events.removeInGroup('a', (doc) => doc.kind === 'x')).toBe(1);
    expect(await events.removeInGroup('a')).toBe(1);
    expect(await events.removeInGroup('a')).toBe(0);
    expect(events.findInGroup('a', () => true)).toEqual([]);
    expect(events.get('2')).toEqual({ owner: 'b', at: '1', kind: 'x' });
  });

  it('returns copies from the index queries', async () => {
    const { events } = await openEvents();
    await events.insert('1', { owner: 'a', at: '1', kind: 'x' });
    const [fromGroup] = events.findInGroup('a', () => true);
    const [fromOrder] = events.findOrdered(() => true);
    if (fromGroup) fromGroup.at = '9';
    if (fromOrder) fromOrder.owner = 'changed';
    expect(events.get('1')).toEqual({ owner: 'a', at: '1', kind: 'x' });
  });

  it('refuses index queries on a collection opened without that index', async () => {
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    const plain = await db.collection<Event>('plain');
    expect(() => plain.findInGroup('a', () => true)).toThrow(TypeError);
    expect(() => plain.findOrdered(() => true)).toThrow(TypeError);
    await expect(plain.removeInGroup('a')).rejects.toThrow(TypeError);
  });

  it('refuses to hand out an open collection with other index functions', async () => {
    const { db } = await openEvents();
    await expect(db.collection<Event>('events', { indexes })).resolves.toBeDefined();
    await expect(db.collection<Event>('events')).resolves.toBeDefined();
    await expect(db.collection<Event>('events', { indexes: { groupBy: (doc) => doc.kind } })).rejects.toThrow(TypeError);
  });

  it('keeps both indexes consistent through every kind of write', async () => {
    const { events } = await openEvents();
    const model = new Map<string, Event>();
    const write = async (id: string, doc: Event) => {
      model.set(id, doc);
    };
    await events.insert('1', { owner: 'a', at: '5', kind: 'x' });
    await write('1', { owner: 'a', at: '5', kind: 'x' });
    await events.put('2', { owner: 'b', at: '5', kind: 'x' });
    await write('2', { owner: 'b', at: '5', kind: 'x' });
    await events.put('3', { owner: 'a', at: '1', kind: 'y' });
    await write('3', { owner: 'a', at: '1', kind: 'y' });
    expectConsistent(events, model);

    // put over an existing document, changing both the group and the sort key
    await events.put('3', { owner: 'c', at: '9', kind: 'y' });
    await write('3', { owner: 'c', at: '9', kind: 'y' });
    expectConsistent(events, model);

    // replaceIf that applies (sort key to the front, same group) and one that does not
    expect(await events.replaceIf('2', { owner: 'b', at: '0', kind: 'z' }, (current) => current.kind === 'x')).toBe(true);
    await write('2', { owner: 'b', at: '0', kind: 'z' });
    expect(await events.replaceIf('2', { owner: 'q', at: '7', kind: 'z' }, () => false)).toBe(false);
    expect(await events.replaceIf('missing', { owner: 'q', at: '7', kind: 'z' }, () => true)).toBe(false);
    expectConsistent(events, model);

    // a failed insert of an existing id changes nothing
    await expect(events.insert('1', { owner: 'z', at: '0', kind: 'x' })).rejects.toThrow();
    expectConsistent(events, model);

    expect(await events.remove('1')).toBe(true);
    model.delete('1');
    expect(await events.remove('1')).toBe(false);
    expectConsistent(events, model);

    await events.put('4', { owner: 'c', at: '9', kind: 'x' });
    await write('4', { owner: 'c', at: '9', kind: 'x' });
    expect(await events.removeWhere((doc) => doc.at === '9')).toBe(2);
    model.delete('3');
    model.delete('4');
    expectConsistent(events, model);
  });

  it('changes nothing when an index function throws on a new document', async () => {
    const db = await EmbeddedDatabase.open(directory);
    openDatabases.push(db);
    const fussy = await db.collection<Event>('fussy', {
      indexes: {
        groupBy: (doc) => {
          if (doc.owner === 'bad') throw new Error('no group');
          return doc.owner;
        },
        orderBy: byAt,
      },
    });
    await fussy.put('1', { owner: 'a', at: '1', kind: 'x' });
    await expect(fussy.put('1', { owner: 'bad', at: '0', kind: 'x' })).rejects.toThrow('no group');
    expect(fussy.get('1')).toEqual({ owner: 'a', at: '1', kind: 'x' });
    expect(fussy.findInGroup('a', () => true)).toHaveLength(1);
    expect(fussy.findOrdered(() => true)).toEqual([{ owner: 'a', at: '1', kind: 'x' }]);
  });

  it('rebuilds the indexes from the journal on reopen, and keeps them through compaction', async () => {
    const options = { compactionMinLines: 10, compactionRatio: 2 };
    const random = seededRandom(7);
    let { db, events } = await openEvents(options);
    const model = new Map<string, Event>();
    const pending: Promise<unknown>[] = [];
    for (let step = 0; step < 400; step += 1) {
      const id = String(Math.floor(random() * 40));
      const doc = { owner: `o${Math.floor(random() * 5)}`, at: String(Math.floor(random() * 20)).padStart(2, '0'), kind: 'k' };
      const roll = random();
      if (roll < 0.6) {
        pending.push(events.put(id, doc));
        model.set(id, doc);
      } else if (roll < 0.8) {
        pending.push(events.remove(id));
        model.delete(id);
      } else if (roll < 0.9) {
        pending.push(events.removeInGroup(doc.owner, (current) => current.at < '05'));
        for (const [key, current] of model) if (current.owner === doc.owner && current.at < '05') model.delete(key);
      } else {
        pending.push(events.removeWhere((current) => current.at === doc.at));
        for (const [key, current] of model) if (current.at === doc.at) model.delete(key);
      }
    }
    await Promise.all(pending);
    expectConsistent(events, model);
    // The running collection compacted on the way (a much shorter journal than 400 writes).
    const lines = (await readFile(join(directory, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(400);

    await db.close();
    ({ db, events } = await openEvents(options));
    expectConsistent(events, model);
    await events.put('new', { owner: 'o1', at: '10', kind: 'k' });
    model.set('new', { owner: 'o1', at: '10', kind: 'k' });
    expectConsistent(events, model);
  });

  it('walks in order from a cursor and stops at the limit, as scan-and-sort would (seeded random data)', async () => {
    const { events } = await openEvents();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const random = seededRandom(seed);
      await events.removeWhere(() => true);
      const model = new Map<string, Event>();
      const count = 1 + Math.floor(random() * 300);
      for (let i = 0; i < count; i += 1) {
        // The documents carry their id in `kind`, so a cursor can be compared like the index compares.
        const id = `id${String(Math.floor(random() * 1000)).padStart(3, '0')}`;
        // Few distinct `at` values, so ties (ordered by id) are common; ids repeat, so puts overwrite.
        const doc = { owner: `o${Math.floor(random() * 4)}`, at: String(Math.floor(random() * 30)).padStart(2, '0'), kind: id };
        await events.put(id, doc);
        model.set(id, doc);
        if (random() < 0.1) {
          await events.remove(id);
          model.delete(id);
        }
      }
      const scanSorted = (predicate: (doc: Readonly<Event>) => boolean) =>
        events.find(predicate, { compare: (a, b) => byAt(a, b) || compareIds(a.kind, b.kind) });
      expect(scanSorted(() => true)).toEqual(
        [...model.entries()].sort(([aId, a], [bId, b]) => byAt(a, b) || compareIds(aId, bId)).map(([, doc]) => doc),
      );
      const position = (doc: Readonly<Event>, cursor: { at: string; id: string }) => byAt(doc, { ...doc, at: cursor.at }) || compareIds(doc.kind, cursor.id);

      for (let query = 0; query < 60; query += 1) {
        const owner = `o${Math.floor(random() * 4)}`;
        const everyOther = random() < 0.5;
        const predicate = (doc: Readonly<Event>) => doc.owner !== owner && (!everyOther || Number(doc.at) % 2 === 0);
        const limit = Math.floor(random() * 20);
        const cursor = { at: String(Math.floor(random() * 32)).padStart(2, '0'), id: `id${String(Math.floor(random() * 1000)).padStart(3, '0')}` };
        const untilAt = random() < 0.5 ? undefined : String(Math.floor(random() * 32)).padStart(2, '0');

        const expected = scanSorted((doc) => position(doc, cursor) > 0 && (untilAt === undefined || doc.at < untilAt) && predicate(doc)).slice(
          0,
          limit,
        );
        const walked = events.findOrdered(predicate, {
          after: (doc) => position(doc, cursor) <= 0,
          until: untilAt === undefined ? undefined : (doc) => doc.at >= untilAt,
          limit,
        });
        expect(walked).toEqual(expected);
        expect(events.findOrdered(predicate, { limit })).toEqual(scanSorted(predicate).slice(0, limit));

        // Keyset paging through everything yields each match once, in order, however the pages fall.
        const pageSize = 1 + (query % 7);
        const paged: Event[] = [];
        let last: Event | undefined;
        for (;;) {
          const from = last;
          const page = events.findOrdered(predicate, {
            after: from === undefined ? undefined : (doc) => position(doc, { at: from.at, id: from.kind }) <= 0,
            limit: pageSize,
          });
          paged.push(...page);
          if (page.length < pageSize) break;
          last = page[page.length - 1];
        }
        expect(paged).toEqual(scanSorted(predicate));
      }
    }
  });

  it('stops the walk at the limit instead of visiting every document', async () => {
    const { events } = await openEvents();
    for (let i = 0; i < 1000; i += 1) await events.put(`id${String(i).padStart(4, '0')}`, { owner: 'a', at: String(i).padStart(4, '0'), kind: 'k' });
    let visited = 0;
    const page = events.findOrdered(() => (visited += 1) > 0, { after: (doc) => doc.at <= '0500', limit: 10 });
    expect(page.map((doc) => doc.at)).toEqual(['0501', '0502', '0503', '0504', '0505', '0506', '0507', '0508', '0509', '0510']);
    expect(visited).toBe(10);
  });
});
