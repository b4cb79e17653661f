import { open, type FileHandle } from 'node:fs/promises';
import { DatabaseUnavailableError, DuplicateIdError } from './errors';
import { deleteLine, putLine, removeInterruptedCompaction, replayJournal, writeCompactedJournal } from './journal';

export interface CollectionOptions {
  /** fsync after each batch of appends, so acknowledged writes survive power loss and not only a process crash. */
  syncWrites: boolean;
  /** The journal is rewritten once it has more lines than this... */
  compactionMinLines: number;
  /** ...and more than this many lines per live document. */
  compactionRatio: number;
}

export interface FindOptions<T> {
  /** Sort order of the result; without it the order is unspecified. */
  compare?: (a: Readonly<T>, b: Readonly<T>) => number;
  /** At most this many documents, taken after sorting. */
  limit?: number;
}

/**
 * In-memory indexes of a collection, chosen when it is opened. Both are derived from the stored (JSON)
 * form of the documents and kept up to date by every write, by replay on open; compaction does not
 * change documents, so it leaves them as they are.
 */
export interface CollectionIndexes<T> {
  /** Group index: `findInGroup` and `removeInGroup` see only the documents with this key. */
  groupBy?: (doc: Readonly<T>) => string;
  /**
   * Ordered index: `findOrdered` walks the documents in this order. Documents that compare equal are
   * ordered by id (code units), so the order is total. Must be pure and must not change documents.
   */
  orderBy?: (a: Readonly<T>, b: Readonly<T>) => number;
}

export interface OrderedFindOptions<T> {
  /**
   * Start point: true for the documents at or before the cursor. Must be monotone along the order
   * (true for a prefix, false after it), so the start is found by binary search.
   */
  after?: (doc: Readonly<T>) => boolean;
  /** Stop point: true for the documents from which on none can match. Must be monotone as well (false, then true). */
  until?: (doc: Readonly<T>) => boolean;
  /** At most this many documents; the walk stops once it has them. */
  limit?: number;
}

interface PendingAppend {
  text: string;
  lineCount: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Documents of one type, keyed by a string id, held in memory and persisted to an append-only journal.
 *
 * Documents are stored as JSON: what `get` returns after a write is exactly what a restart replays
 * (undefined members dropped, Dates as strings). Every write changes the in-memory state synchronously,
 * before its first await, so a check and the change it guards (`insert`, `replaceIf`) cannot interleave
 * with another write; the returned promise resolves once the journal line is written.
 */
export class EmbeddedCollection<T extends object> {
  private readonly documents: Map<string, T>;
  private journalLineCount: number;
  private readonly appendQueue: PendingAppend[] = [];
  private writer: Promise<void> | undefined;
  private failure: unknown;
  private closed = false;
  /** Group key -> ids of the documents in the group; groups without documents are dropped. */
  private readonly groups: Map<string, Set<string>> | undefined;
  /** Ids sorted by `indexes.orderBy`, then id. */
  private readonly ordered: string[] | undefined;

  private constructor(
    readonly name: string,
    private readonly journalPath: string,
    private journal: FileHandle,
    replayed: { documents: Map<string, object>; lineCount: number },
    private readonly options: CollectionOptions,
    readonly indexes: CollectionIndexes<T>,
  ) {
    // The journal holds whatever the owner of the collection wrote; the caller names its type.
    this.documents = replayed.documents as Map<string, T>;
    this.journalLineCount = replayed.lineCount;
    if (indexes.groupBy) {
      this.groups = new Map();
      for (const [id, doc] of this.documents) this.addToGroup(indexes.groupBy(doc), id);
    }
    if (indexes.orderBy) {
      this.ordered = [...this.documents.keys()];
      this.ordered.sort((a, b) => this.compareEntries(this.stored(a), a, this.stored(b), b));
    }
  }

  /** Replays the journal and compacts it if it has grown well beyond the live documents. Used by EmbeddedDatabase. */
  static async open<T extends object>(
    name: string,
    journalPath: string,
    options: CollectionOptions,
    indexes: CollectionIndexes<T> = {},
  ): Promise<EmbeddedCollection<T>> {
    await removeInterruptedCompaction(journalPath);
    const replayed = await replayJournal(journalPath);
    if (needsCompaction(replayed.lineCount, replayed.documents.size, options)) {
      await writeCompactedJournal(journalPath, replayed.documents);
      replayed.lineCount = replayed.documents.size;
    }
    const journal = await open(journalPath, 'a');
    try {
      return new EmbeddedCollection<T>(name, journalPath, journal, replayed, options, indexes);
    } catch (error) {
      // An index function that throws on a stored document: do not leak the file handle.
      await journal.close();
      throw error;
    }
  }

  /** A copy of the document, so callers cannot change the stored state. */
  get(id: string): T | undefined {
    this.assertAvailable();
    const doc = this.documents.get(id);
    return doc === undefined ? undefined : structuredClone(doc);
  }

  has(id: string): boolean {
    this.assertAvailable();
    return this.documents.has(id);
  }

  count(): number {
    this.assertAvailable();
    return this.documents.size;
  }

  /** Copies of the matching documents. `predicate` and `compare` see the stored documents and must not change them. */
  find(predicate: (doc: Readonly<T>) => boolean, options: FindOptions<T> = {}): T[] {
    this.assertAvailable();
    const matches: T[] = [];
    for (const doc of this.documents.values()) if (predicate(doc)) matches.push(doc);
    if (options.compare) matches.sort(options.compare);
    const limited = options.limit === undefined ? matches : matches.slice(0, Math.max(0, options.limit));
    return limited.map((doc) => structuredClone(doc));
  }

  /**
   * Like `find`, over the documents of one group only (needs the `groupBy` index).
   * The result is in insertion order unless `options.compare` is given.
   */
  findInGroup(key: string, predicate: (doc: Readonly<T>) => boolean, options: FindOptions<T> = {}): T[] {
    this.assertAvailable();
    const groups = this.requireIndex(this.groups, 'groupBy');
    const matches: T[] = [];
    for (const id of groups.get(key) ?? []) {
      const doc = this.stored(id);
      if (predicate(doc)) matches.push(doc);
    }
    if (options.compare) matches.sort(options.compare);
    const limited = options.limit === undefined ? matches : matches.slice(0, Math.max(0, options.limit));
    return limited.map((doc) => structuredClone(doc));
  }

  /**
   * Copies of the matching documents in index order (needs the `orderBy` index): binary search to the
   * first document not `after` the cursor, then a walk that stops after `limit` matches or at `until`.
   * Costs O(log N + documents walked), and equals `find(predicate, {compare: orderBy, limit})`
   * restricted to the documents between the bounds.
   */
  findOrdered(predicate: (doc: Readonly<T>) => boolean, options: OrderedFindOptions<T> = {}): T[] {
    this.assertAvailable();
    const ordered = this.requireIndex(this.ordered, 'orderBy');
    const limit = options.limit === undefined ? Infinity : Math.max(0, options.limit);
    const results: T[] = [];
    if (limit === 0) return results;
    const { after, until } = options;
    let index = after === undefined ? 0 : this.firstIndexWhere((doc) => !after(doc));
    for (; index < ordered.length; index += 1) {
      const doc = this.stored(ordered[index] as string);
      if (until !== undefined && until(doc)) break;
      if (predicate(doc)) {
        results.push(structuredClone(doc));
        if (results.length >= limit) break;
      }
    }
    return results;
  }

  /** @throws DuplicateIdError when `id` exists. */
  async insert(id: string, doc: T): Promise<void> {
    this.assertAvailable();
    if (this.documents.has(id)) throw new DuplicateIdError(this.name, id);
    await this.writeDocument(id, doc);
  }

  /** Inserts or overwrites. */
  async put(id: string, doc: T): Promise<void> {
    this.assertAvailable();
    await this.writeDocument(id, doc);
  }

  /** Overwrites the document if it exists and `precondition` accepts its current state; resolves to whether it did. */
  async replaceIf(id: string, doc: T, precondition: (current: Readonly<T>) => boolean): Promise<boolean> {
    this.assertAvailable();
    const current = this.documents.get(id);
    if (current === undefined || !precondition(current)) return false;
    await this.writeDocument(id, doc);
    return true;
  }

  /** Resolves to whether the document existed. */
  async remove(id: string): Promise<boolean> {
    this.assertAvailable();
    const current = this.documents.get(id);
    if (current === undefined) return false;
    this.deleteDocument(id, current);
    await this.append(deleteLine(id), 1);
    return true;
  }

  /** Removes every matching document; resolves to how many there were. */
  async removeWhere(predicate: (doc: Readonly<T>) => boolean): Promise<number> {
    this.assertAvailable();
    return this.removeIds([...this.documents.keys()], predicate);
  }

  /** `removeWhere` over the documents of one group only (needs the `groupBy` index). */
  async removeInGroup(key: string, predicate: (doc: Readonly<T>) => boolean = () => true): Promise<number> {
    this.assertAvailable();
    const groups = this.requireIndex(this.groups, 'groupBy');
    return this.removeIds([...(groups.get(key) ?? [])], predicate);
  }

  private async removeIds(ids: readonly string[], predicate: (doc: Readonly<T>) => boolean): Promise<number> {
    // Matches are chosen before anything is removed, so a predicate that throws leaves memory untouched.
    const matches = ids.filter((id) => predicate(this.stored(id)));
    for (const id of matches) this.deleteDocument(id, this.stored(id));
    if (matches.length > 0) await this.append(matches.map(deleteLine).join(''), matches.length);
    return matches.length;
  }

  /** Throws unless the collection can serve requests. */
  assertAvailable(): void {
    if (this.closed) throw new DatabaseUnavailableError(`collection ${this.name} is closed`);
    if (this.failure !== undefined) {
      throw new DatabaseUnavailableError(`collection ${this.name} stopped after a failed write`, { cause: this.failure });
    }
  }

  /** Waits for pending writes, then releases the journal file. Used by EmbeddedDatabase. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer;
    await this.journal.close();
  }

  /** Changes memory synchronously (callers rely on it, see the class comment); the promise is the disk write. */
  private writeDocument(id: string, given: T): Promise<void> {
    const json = JSON.stringify(given) as string | undefined;
    if (json === undefined) throw new TypeError(`document ${id} is not JSON-serialisable`);
    const doc = JSON.parse(json) as T;
    const current = this.documents.get(id);
    // Everything that calls the index functions (which might throw) happens before memory changes.
    const newGroup = this.indexes.groupBy?.(doc);
    const oldGroup = current === undefined ? undefined : this.indexes.groupBy?.(current);
    let oldPosition = -1;
    let newPosition = -1;
    if (this.ordered) {
      if (current !== undefined) oldPosition = this.positionOf(id, current);
      newPosition = this.firstIndexWhere((other, otherId) => this.compareEntries(other, otherId, doc, id) >= 0);
    }
    this.documents.set(id, doc);
    if (this.groups && newGroup !== oldGroup) {
      if (oldGroup !== undefined) this.removeFromGroup(oldGroup, id);
      this.addToGroup(newGroup as string, id);
    }
    if (this.ordered) {
      if (oldPosition >= 0) {
        this.ordered.splice(oldPosition, 1);
        if (newPosition > oldPosition) newPosition -= 1;
      }
      this.ordered.splice(newPosition, 0, id);
    }
    return this.append(putLine(id, json), 1);
  }

  private deleteDocument(id: string, current: T): void {
    const group = this.indexes.groupBy?.(current);
    const position = this.ordered ? this.positionOf(id, current) : -1;
    this.documents.delete(id);
    if (this.groups) this.removeFromGroup(group as string, id);
    if (this.ordered) this.ordered.splice(position, 1);
  }

  private stored(id: string): T {
    const doc = this.documents.get(id);
    if (doc === undefined) throw new Error(`index of collection ${this.name} names a missing document ${id}`);
    return doc;
  }

  private requireIndex<I>(index: I | undefined, kind: string): I {
    if (index === undefined) throw new TypeError(`collection ${this.name} has no ${kind} index`);
    return index;
  }

  private addToGroup(key: string, id: string): void {
    let group = this.groups?.get(key);
    if (!group) {
      group = new Set();
      this.groups?.set(key, group);
    }
    group.add(id);
  }

  private removeFromGroup(key: string, id: string): void {
    const group = this.groups?.get(key);
    if (!group) return;
    group.delete(id);
    if (group.size === 0) this.groups?.delete(key);
  }

  /** The index order: `orderBy`, then id. */
  private compareEntries(a: T, aId: string, b: T, bId: string): number {
    const byOrder = (this.indexes.orderBy as NonNullable<CollectionIndexes<T>['orderBy']>)(a, b);
    if (byOrder !== 0) return byOrder;
    return aId < bId ? -1 : aId > bId ? 1 : 0;
  }

  /** Binary search over the ordered index: the first position where the (monotone) test holds, or its length. */
  private firstIndexWhere(test: (doc: T, id: string) => boolean): number {
    const ordered = this.ordered as string[];
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const id = ordered[middle] as string;
      if (test(this.stored(id), id)) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Position of a stored document in the ordered index. */
  private positionOf(id: string, doc: T): number {
    const position = this.firstIndexWhere((other, otherId) => this.compareEntries(other, otherId, doc, id) >= 0);
    if (this.ordered?.[position] !== id) throw new Error(`ordered index of collection ${this.name} lost document ${id}`);
    return position;
  }

  private append(text: string, lineCount: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.appendQueue.push({ text, lineCount, resolve, reject });
      // One writer per collection, so lines never interleave; appends queued meanwhile go out as one batch.
      this.writer ??= this.writeQueuedAppends();
    });
  }

  private async writeQueuedAppends(): Promise<void> {
    try {
      while (this.appendQueue.length > 0) {
        const batch = this.appendQueue.splice(0);
        const batchLineCount = batch.reduce((sum, append) => sum + append.lineCount, 0);
        try {
          if (needsCompaction(this.journalLineCount + batchLineCount, this.documents.size, this.options)) {
            // Taken in the same synchronous step as the batch, so the snapshot holds exactly the batch's writes.
            const snapshot = new Map(this.documents);
            await this.compact(snapshot);
          } else {
            await this.journal.appendFile(batch.map((append) => append.text).join(''));
            if (this.options.syncWrites) await this.journal.datasync();
            this.journalLineCount += batchLineCount;
          }
          for (const append of batch) append.resolve();
        } catch (error) {
          // Memory is now ahead of the disk: stop serving rather than acknowledge writes a restart would lose.
          this.failure = error;
          const unavailable = new DatabaseUnavailableError(`write to collection ${this.name} failed`, { cause: error });
          for (const append of [...batch, ...this.appendQueue.splice(0)]) append.reject(unavailable);
        }
      }
    } finally {
      this.writer = undefined;
    }
  }

  private async compact(snapshot: ReadonlyMap<string, object>): Promise<void> {
    await this.journal.close();
    await writeCompactedJournal(this.journalPath, snapshot);
    this.journal = await open(this.journalPath, 'a');
    this.journalLineCount = snapshot.size;
  }
}

const needsCompaction = (journalLineCount: number, liveCount: number, options: CollectionOptions): boolean =>
  journalLineCount > options.compactionMinLines && journalLineCount > options.compactionRatio * liveCount;
