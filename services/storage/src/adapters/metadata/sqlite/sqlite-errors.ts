import { DomainError } from '@forms/contracts';
import { isCorruptError, isFullError, sqliteCode } from '@forms/sqlite-support';
import { DuplicateKeyError } from '../../../domain/ports/metadata-store';
import { metadataStoreUnavailable } from '../metadata-support';

/** Disk full: 507, and nothing of the write was stored (the transaction rolled back). */
export const metadataStoreFull = (cause: unknown): DomainError => {
  const error = new DomainError('insufficient_storage', 'METADATA_STORE_FULL', 'The metadata store has no room for this write; retry once space is freed.');
  error.cause = cause;
  return error;
};

/**
 * Maps SQLite's errors to what the MetadataStore contract and the error handler understand. `key` is the
 * id being inserted, for DuplicateKeyError.
 */
export function translateSqliteErrors<T>(operation: () => T, key?: string, onFull?: () => void): T {
  try {
    return operation();
  } catch (error) {
    throw translateSqliteError(error, key, onFull);
  }
}

/** The error the MetadataStore contract and the error handler understand for one thrown by SQLite (others as they are). */
export function translateSqliteError(error: unknown, key?: string, onFull?: () => void): unknown {
  const code = sqliteCode(error);
  if (code === undefined) return error;
  if (key !== undefined && (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')) return new DuplicateKeyError(key);
  if (isFullError(error)) {
    onFull?.();
    return metadataStoreFull(error);
  }
  if (isCorruptError(error)) {
    return metadataStoreUnavailable('the metadata database is damaged: see the README, "Repairing the embedded database"', error);
  }
  return metadataStoreUnavailable(`metadata store unavailable: ${(error as Error).message}`, error);
}
