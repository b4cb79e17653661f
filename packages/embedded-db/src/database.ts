import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedCollection, type CollectionIndexes, type CollectionOptions } from './collection';
import { DatabaseUnavailableError } from './errors';

export interface EmbeddedDatabaseOptions {
  /** fsync after each batch of appends, so acknowledged writes survive power loss as well as a crash. Default false. */
  syncWrites?: boolean;
  /** A journal is compacted once it has more lines than this (default 1000)... */
  compactionMinLines?: number;
  /** ...and more than this many lines per live document (default 4). */
  compactionRatio?: number;
}

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * A folder of collections, one journal file (`<name>.jsonl`) each. Meant for one process at a time:
 * two processes writing the same folder would not see each other's writes.
 */
export class EmbeddedDatabase {
  // Promises, so two concurrent calls for one name share a single replay of its journal.
  private readonly collections = new Map<string, Promise<EmbeddedCollection<object>>>();
  /** The indexes each collection was opened with, so a later call cannot silently get other ones. */
  private readonly collectionIndexes = new Map<string, CollectionIndexes<never>>();
  private closed = false;

  private constructor(
    readonly directory: string,
    private readonly options: CollectionOptions,
  ) {}

  static async open(directory: string, options: EmbeddedDatabaseOptions = {}): Promise<EmbeddedDatabase> {
    await mkdir(directory, { recursive: true });
    return new EmbeddedDatabase(directory, {
      syncWrites: options.syncWrites ?? false,
      compactionMinLines: options.compactionMinLines ?? 1000,
      compactionRatio: options.compactionRatio ?? 4,
    });
  }

  /**
   * Opens (on first use: replays) a collection. The type parameter is the caller's word; the store does not check documents.
   * `options.indexes` are built on first use; a later call for the same collection may leave them out or pass the
   * same functions, but not other ones.
   */
  async collection<T extends object>(name: string, options: { indexes?: CollectionIndexes<T> } = {}): Promise<EmbeddedCollection<T>> {
    if (this.closed) throw new DatabaseUnavailableError(`database ${this.directory} is closed`);
    if (!COLLECTION_NAME.test(name)) throw new TypeError(`invalid collection name: ${JSON.stringify(name)}`);
    let opening = this.collections.get(name);
    if (opening) {
      const existing = this.collectionIndexes.get(name) as CollectionIndexes<T> | undefined;
      const requested = options.indexes;
      if (requested && (requested.groupBy !== existing?.groupBy || requested.orderBy !== existing?.orderBy)) {
        throw new TypeError(`collection ${name} is already open with other indexes`);
      }
    } else {
      const indexes = options.indexes ?? {};
      opening = EmbeddedCollection.open<T>(name, join(this.directory, `${name}.jsonl`), this.options, indexes) as Promise<
        EmbeddedCollection<object>
      >;
      this.collections.set(name, opening);
      this.collectionIndexes.set(name, indexes as CollectionIndexes<never>);
      // A failed open (say, a corrupt journal) must not stick: let a later call try again.
      opening.catch(() => {
        this.collections.delete(name);
        this.collectionIndexes.delete(name);
      });
    }
    return (await opening) as unknown as EmbeddedCollection<T>;
  }

  /** Throws unless every opened collection can serve requests and the folder is still writable. */
  async check(): Promise<void> {
    if (this.closed) throw new DatabaseUnavailableError(`database ${this.directory} is closed`);
    for (const opening of this.collections.values()) (await opening).assertAvailable();
    try {
      await access(this.directory, constants.W_OK);
    } catch (error) {
      throw new DatabaseUnavailableError(`database folder ${this.directory} is not writable`, { cause: error });
    }
  }

  /** Waits for pending writes and closes every collection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opened = await Promise.allSettled(this.collections.values());
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    this.collections.clear();
  }
}
