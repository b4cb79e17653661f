/**
 * `npm run backup -- <folder>`: a consistent backup of everything `npm run up` keeps (DATA_DIR, default ./.data),
 * also while it runs, into <folder>: one folder per service (auth, events, storage), each a DATA_DIR of its own.
 * To restore, stop the platform and start it on a copy of the folder (`DATA_DIR=<copy> npm run up`), or copy its
 * contents over DATA_DIR. A second backup into the same folder copies only the files that are new.
 *
 * Exit code 0: backed up; 1: backed up, but storage found content missing or damaged (listed); 2: usage, or a
 * service's data could not be backed up.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assertSeparateFolders } from '@forms/sqlite-support';
import { backupEmbeddedAuth } from '../services/auth/src/adapters/embedded-backup';
import { backupEmbeddedEvents } from '../services/events/src/adapters/embedded-backup';
import { backupEmbeddedStorage, describeBackupProblems, describeStorageBackup } from '../services/storage/src/adapters/backup/embedded-backup';

type Step = (dataDir: string, target: string) => Promise<{ line: string; problems: string[] }>;

/**
 * In this order: the events service's relay position must not be ahead of the storage it is restored with, so
 * events before storage (services/events/src/adapters/embedded-backup.ts).
 */
const STEPS: [service: string, folder: string, step: Step][] = [
  ['token service', 'auth', async (dataDir, target) => ({ line: backupEmbeddedAuth(dataDir, target).files.join(', '), problems: [] })],
  ['events', 'events', async (dataDir, target) => ({ line: backupEmbeddedEvents(dataDir, target).files.join(', '), problems: [] })],
  [
    'storage',
    'storage',
    async (dataDir, target) => {
      const report = await backupEmbeddedStorage(dataDir, target);
      return { line: describeStorageBackup(report), problems: describeBackupProblems(report) };
    },
  ],
];

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0]?.startsWith('-')) {
    console.error('usage: npm run backup -- <folder>   (backs up DATA_DIR, default ./.data, as npm run up keeps it)');
    return 2;
  }
  const shared = ['MONGODB_URL', 'S3_ENDPOINT', 'S3_BUCKET'].filter((name) => process.env[name]);
  if (shared.length > 0) {
    console.error(`npm run backup: ${shared.join(', ')} set: the services keep their data there, not in DATA_DIR; back those stores up with their own tools (see the README's "Backups")`);
    return 2;
  }
  const dataRoot = resolve(process.env.DATA_DIR ?? '.data');
  const target = resolve(args[0] as string);
  try {
    assertSeparateFolders(dataRoot, target);
  } catch (error) {
    console.error(`npm run backup: ${(error as Error).message}`);
    return 2;
  }
  let exitCode = 0;
  for (const [service, folder, step] of STEPS) {
    const dataDir = join(dataRoot, folder);
    if (!existsSync(dataDir)) {
      console.log(`${service}: nothing in ${dataDir}, skipped`);
      continue;
    }
    try {
      const { line, problems } = await step(dataDir, join(target, folder));
      console.log(`${service}: ${line}`);
      for (const problem of problems) console.error(`  ${problem}`);
      if (problems.length > 0) exitCode = Math.max(exitCode, 1);
    } catch (error) {
      console.error(`${service}: backup of ${dataDir} failed: ${(error as Error).message}`);
      return 2;
    }
  }
  console.log(`backup of ${dataRoot} in ${target}: done`);
  return exitCode;
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
