import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedCollection, type CollectionOptions } from './collection';
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

  /** Opens (on first use: replays) a collection. The type parameter is the caller's word; the store does not check documents. */
  async collection<T extends object>(name: string): Promise<EmbeddedCollection<T>> {
    if (this.closed) throw new DatabaseUnavailableError(`database ${this.directory} is closed`);
    if (!COLLECTION_NAME.test(name)) throw new TypeError(`invalid collection name: ${JSON.stringify(name)}`);
    let opening = this.collections.get(name);
    if (!opening) {
      opening = EmbeddedCollection.open<object>(name, join(this.directory, `${name}.jsonl`), this.options);
      this.collections.set(name, opening);
      // A failed open (say, a corrupt journal) must not stick: let a later call try again.
      opening.catch(() => this.collections.delete(name));
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
