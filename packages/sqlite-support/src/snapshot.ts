import { rmSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { partialPathOf, replaceDurably } from './durable-files';
import { openReadOnly } from './read-only';

/**
 * Writes a consistent copy of the database at `source` to `target` while its owner goes on writing: SQLite's
 * `VACUUM INTO` reads one snapshot (a read transaction of the write-ahead log, which blocks no writer) and writes
 * it out compacted. The copy is written beside `target` under a temporary name, synced, and renamed onto it, so
 * `target` is always a whole database: the previous copy until the new one is complete, never part of one.
 */
export function snapshotDatabase(source: string, target: string): { bytes: number } {
  const partial = partialPathOf(target);
  // VACUUM INTO refuses an existing file: what an interrupted snapshot left goes first.
  rmSync(partial, { force: true });
  const db = openReadOnly(source);
  try {
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
  // SQLite does not sync what VACUUM INTO writes.
  replaceDurably(partial, target);
  return { bytes: statSync(target).size };
}

/** A backup folder that cannot hold a backup of this DATA_DIR. */
export class BackupTargetError extends Error {
  readonly code = 'BACKUP_TARGET_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'BackupTargetError';
  }
}

/** A backup goes to a folder of its own: never DATA_DIR itself, inside it, or around it. */
export function assertSeparateFolders(dataDir: string, backupDir: string): void {
  const [source, target] = [resolve(dataDir), resolve(backupDir)];
  const inside = (folder: string, parent: string) => folder === parent || folder.startsWith(parent + sep);
  if (inside(target, source) || inside(source, target)) {
    throw new BackupTargetError(`the backup folder ${target} and DATA_DIR ${source} must be separate (neither inside the other)`);
  }
}
