/**
 * Maintenance of the embedded metadata database, from the repository root:
 *
 *   pnpm exec tsx services/storage/src/maintenance.ts check [--full]
 *
 * `check` runs SQLite's `PRAGMA quick_check` (`--full`: `integrity_check`, which also compares every index
 * with its table) on DATA_DIR/metadata.sqlite through a read-only connection, so it may run beside the
 * service. Exit code 0: sound; 1: damaged (the problems are printed); 2: usage or the file cannot be opened.
 */
import { join } from 'node:path';
import { checkIntegrity, openReadOnly } from '@forms/sqlite-support';
import { METADATA_DATABASE_FILE } from './adapters/metadata/sqlite/sqlite-metadata-store';
import { loadStorageConfig } from './config';

function main(args: string[]): number {
  const [command, ...options] = args;
  if (command !== 'check' || options.some((option) => option !== '--full')) {
    console.error('usage: maintenance.ts check [--full]');
    return 2;
  }
  const config = loadStorageConfig();
  if (config.MONGODB_URL) {
    console.error('MONGODB_URL is set: this command checks the embedded SQLite database only');
    return 2;
  }
  const path = join(config.DATA_DIR, METADATA_DATABASE_FILE);
  let problems: string[];
  const started = Date.now();
  try {
    const db = openReadOnly(path);
    try {
      problems = checkIntegrity(db, options.includes('--full'));
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

process.exitCode = main(process.argv.slice(2));
