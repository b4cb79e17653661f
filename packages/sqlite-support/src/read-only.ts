import Database from 'better-sqlite3';

/** Opens a database read-only (a check in a worker thread, a maintenance command, a snapshot beside the service). */
export function openReadOnly(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
}
