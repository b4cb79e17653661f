import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertSeparateFolders, BackupTargetError, copyFileDurably, snapshotDatabase } from '@forms/sqlite-support';
import { SIGNING_KEYS_FILE } from './index';
import { CLIENTS_DATABASE_FILE } from './sqlite-client-store';

export interface AuthBackupReport {
  /** The files written into the backup folder. */
  files: string[];
}

/**
 * Backs up the embedded token service's DATA_DIR into `targetDir`, also while it runs: a consistent snapshot of
 * the client database (registered clients, used assertion ids) and the managed signing keys, so that a token
 * service started on the backup knows the same clients and signs with the same keys (tokens issued before still
 * verify). The keys file is private: the copy keeps its permissions (owner only).
 */
export function backupEmbeddedAuth(dataDir: string, targetDir: string): AuthBackupReport {
  assertSeparateFolders(dataDir, targetDir);
  const database = join(dataDir, CLIENTS_DATABASE_FILE);
  if (!existsSync(database)) throw new BackupTargetError(`${database} does not exist: is DATA_DIR the token service's?`);
  mkdirSync(targetDir, { recursive: true, mode: 0o700 });
  snapshotDatabase(database, join(targetDir, CLIENTS_DATABASE_FILE));
  const files = [CLIENTS_DATABASE_FILE];
  // Absent when the keys come from SIGNING_KEY_PEM (a Secret, backed up where it is kept).
  if (existsSync(join(dataDir, SIGNING_KEYS_FILE))) {
    copyFileDurably(join(dataDir, SIGNING_KEYS_FILE), join(targetDir, SIGNING_KEYS_FILE));
    files.push(SIGNING_KEYS_FILE);
  }
  return { files };
}
