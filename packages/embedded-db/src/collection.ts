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

  private constructor(
    readonly name: string,
    private readonly journalPath: string,
    private journal: FileHandle,
    replayed: { documents: Map<string, object>; lineCount: number },
    private readonly options: CollectionOptions,
  ) {
    // The journal holds whatever the owner of the collection wrote; the caller names its type.
    this.documents = replayed.documents as Map<string, T>;
    this.journalLineCount = replayed.lineCount;
  }

  /** Replays the journal and compacts it if it has grown well beyond the live documents. Used by EmbeddedDatabase. */
  static async open<T extends object>(name: string, journalPath: string, options: CollectionOptions): Promise<EmbeddedCollection<T>> {
    await removeInterruptedCompaction(journalPath);
    const replayed = await replayJournal(journalPath);
    if (needsCompaction(replayed.lineCount, replayed.documents.size, options)) {
      await writeCompactedJournal(journalPath, replayed.documents);
      replayed.lineCount = replayed.documents.size;
    }
    const journal = await open(journalPath, 'a');
    return new EmbeddedCollection<T>(name, journalPath, journal, replayed, options);
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
    if (!this.documents.delete(id)) return false;
    await this.append(deleteLine(id), 1);
    return true;
  }

  /** Removes every matching document; resolves to how many there were. */
  async removeWhere(predicate: (doc: Readonly<T>) => boolean): Promise<number> {
    this.assertAvailable();
    const lines: string[] = [];
    for (const [id, doc] of this.documents) {
      if (predicate(doc)) {
        this.documents.delete(id);
        lines.push(deleteLine(id));
      }
    }
    if (lines.length > 0) await this.append(lines.join(''), lines.length);
    return lines.length;
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
  private writeDocument(id: string, doc: T): Promise<void> {
    const json = JSON.stringify(doc) as string | undefined;
    if (json === undefined) throw new TypeError(`document ${id} is not JSON-serialisable`);
    this.documents.set(id, JSON.parse(json) as T);
    return this.append(putLine(id, json), 1);
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
