/** Thrown by `EmbeddedCollection#insert` when a document with the same id exists. */
export class DuplicateIdError extends Error {
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`duplicate id in collection ${collection}: ${id}`);
    this.name = 'DuplicateIdError';
  }
}

/** A journal line other than a torn last line cannot be read: the file was damaged or edited by hand. */
export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly lineNumber: number,
    options?: { cause?: unknown },
  ) {
    super(`journal ${file} is corrupt at line ${lineNumber}`, options);
    this.name = 'JournalCorruptError';
  }
}

/**
 * The database or collection cannot serve requests: it was closed, or a write to disk failed.
 * After a failed write the in-memory state is ahead of the disk, so the collection stops serving
 * (fail-stop) until the process reopens it from the journal.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}
