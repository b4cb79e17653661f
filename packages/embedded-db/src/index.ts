export { EmbeddedDatabase, type EmbeddedDatabaseOptions } from './database';
export { EmbeddedCollection, type CollectionIndexes, type FindOptions, type OrderedFindOptions } from './collection';
export { DatabaseUnavailableError, DuplicateIdError, JournalCorruptError } from './errors';
