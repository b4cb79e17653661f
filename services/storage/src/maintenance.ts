/**
 * Maintenance of the embedded storage (DATA_DIR), from the repository root:
 *
 *   pnpm exec tsx services/storage/src/maintenance.ts check [--full]
 *   pnpm exec tsx services/storage/src/maintenance.ts backup <folder>
 *
 * `check` runs SQLite's `PRAGMA quick_check` (`--full`: `integrity_check`, which also compares every index
 * with its table) on DATA_DIR/metadata.sqlite through a read-only connection, so it may run beside the
 * service. Exit code 0: sound; 1: damaged (the problems are printed); 2: usage or the file cannot be opened.
 *
 * `backup` writes a consistent backup of DATA_DIR (database and blob files) into <folder>, also beside the running
 * service; <folder> is then a DATA_DIR of its own (adapters/backup/embedded-backup.ts). Exit code 0: backed up;
 * 1: backed up, but some content was missing or damaged (listed); 2: usage, or nothing could be backed up.
 */
import { join } from 'node:path';
import { checkIntegrity, openReadOnly } from '@forms/sqlite-support';
import { backupEmbeddedStorage, describeBackupProblems, describeStorageBackup, type StorageBackupReport } from './adapters/backup/embedded-backup';
import { METADATA_DATABASE_FILE } from './adapters/metadata/sqlite/sqlite-metadata-store';
import { loadStorageConfig } from './config';

const USAGE = 'usage: maintenance.ts check [--full] | backup <folder>';

async function main(args: string[]): Promise<number> {
  const [command, ...options] = args;
  const isCheck = command === 'check' && options.every((option) => option === '--full');
  const isBackup = command === 'backup' && options.length === 1 && !options[0]?.startsWith('-');
  if (!isCheck && !isBackup) {
    console.error(USAGE);
    return 2;
  }
  const config = loadStorageConfig();
  if (config.MONGODB_URL) {
    console.error(`MONGODB_URL is set: this command is for the embedded SQLite database only (see the README's "Backups" for MongoDB and S3)`);
    return 2;
  }
  if (isBackup && (config.S3_ENDPOINT || config.S3_BUCKET)) {
    // The database would be backed up without the content its elements name.
    console.error(`S3_ENDPOINT or S3_BUCKET is set: the blobs are in S3, not in DATA_DIR; back them up with the bucket (see the README's "Backups")`);
    return 2;
  }
  return isCheck ? check(config.DATA_DIR, options.includes('--full')) : backup(config.DATA_DIR, options[0] as string);
}

function check(dataDir: string, full: boolean): number {
  const path = join(dataDir, METADATA_DATABASE_FILE);
  let problems: string[];
  const started = Date.now();
  try {
    const db = openReadOnly(path);
    try {
      problems = checkIntegrity(db, full);
    } finally {
      db.close();
    }
  } catch (error) {
    console.error(`${path}: cannot be checked: ${(error as Error).message}`);
    return (error as { code?: string }).code?.startsWith('SQLITE_CORRUPT') || (error as { code?: string }).code === 'SQLITE_NOTADB' ? 1 : 2;
  }
  if (problems.length === 0) {
    console.log(`${path}: ok (${Date.now() - started} ms)`);
    return 0;
  }
  console.error(`${path}: damaged, ${problems.length} problem(s):`);
  for (const problem of problems) console.error(`  ${problem}`);
  return 1;
}

async function backup(dataDir: string, folder: string): Promise<number> {
  let report: StorageBackupReport;
  try {
    report = await backupEmbeddedStorage(dataDir, folder);
  } catch (error) {
    console.error(`storage backup of ${dataDir} into ${folder} failed: ${(error as Error).message}`);
    return 2;
  }
  console.log(describeStorageBackup(report));
  const problems = describeBackupProblems(report);
  for (const problem of problems) console.error(`  ${problem}`);
  return problems.length > 0 ? 1 : 0;
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
