export { EmbeddedDatabase, type EmbeddedDatabaseOptions } from './database';
export { EmbeddedCollection, type FindOptions } from './collection';
export { DatabaseUnavailableError, DuplicateIdError, JournalCorruptError } from './errors';
