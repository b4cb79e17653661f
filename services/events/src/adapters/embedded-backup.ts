import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertSeparateFolders, BackupTargetError, snapshotDatabase } from '@forms/sqlite-support';
import { EVENTS_DATABASE_FILE } from './sqlite-event-store';

/**
 * Backs up the embedded events service's DATA_DIR into `targetDir`, also while it runs: a consistent snapshot of
 * its database (the events relayed from storage, subscriptions with their secrets, delivery positions and dead
 * letters). Take it before storage's (as `npm run backup` does): restored together, the relay's position is then
 * at or behind storage's, so storage's feed hands it again what came after and nothing is skipped; subscribers may
 * see such events once more (delivery is at least once, ADR 0014). A position ahead of a restored storage would
 * skip the sequences storage hands out again.
 */
export function backupEmbeddedEvents(dataDir: string, targetDir: string): { files: string[] } {
  assertSeparateFolders(dataDir, targetDir);
  const database = join(dataDir, EVENTS_DATABASE_FILE);
  if (!existsSync(database)) throw new BackupTargetError(`${database} does not exist: is DATA_DIR the events service's?`);
  mkdirSync(targetDir, { recursive: true, mode: 0o700 });
  snapshotDatabase(database, join(targetDir, EVENTS_DATABASE_FILE));
  return { files: [EVENTS_DATABASE_FILE] };
}
