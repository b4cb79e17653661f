import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import type { DataElement, Instance } from '@forms/contracts';
import { assertSeparateFolders, BackupTargetError, openReadOnly, snapshotDatabase, syncDirectory, type SqliteDatabase } from '@forms/sqlite-support';
import { BLOBS_FOLDER, FilesystemBlobStore } from '../blobs/filesystem-blob-store';
import { METADATA_DATABASE_FILE } from '../metadata/sqlite/sqlite-metadata-store';

/** What the last backup in a folder did, beside the data it wrote. */
export const BACKUP_REPORT_FILE = 'backup.json';
const NEXT_SNAPSHOT = '.metadata.next.sqlite';
/** Instances read from the snapshot at a time: memory stays bounded however many there are. */
const PAGE_SIZE = 200;
/** Blob copies in flight at once: most time goes to each file's syncs, which overlap. */
const COPIES_AT_ONCE = 4;

/** A data element whose content could not be backed up as recorded. */
export interface BlobProblem {
  instanceId: string;
  dataElementId: string;
  blobStoragePath: string;
  reason: string;
}

export interface StorageBackupReport {
  source: string;
  target: string;
  finished: string;
  instances: number;
  dataElements: number;
  /** Content kept in the metadata database itself (ADR 0018): in the snapshot already. */
  inDatabase: number;
  files: { copied: number; bytesCopied: number; alreadyThere: number; removed: number };
  /** Content the snapshot names that DATA_DIR no longer has: deleted after the snapshot, or lost. */
  missing: BlobProblem[];
  /** Content whose bytes differ from the element's recorded size or sha256 (left out of the backup). */
  damaged: BlobProblem[];
  milliseconds: number;
}

/**
 * Backs up an embedded storage (DATA_DIR: the SQLite metadata database and the blob files) into `targetDir`
 * while the service goes on serving. The folder it writes is itself a DATA_DIR: a storage started on it (or on a
 * copy) serves the instances as they were at the snapshot.
 *
 * 1. A snapshot of the database (SQLite's VACUUM INTO: one read transaction, no writer held up).
 * 2. The content of every data element in that snapshot that is a file of its own, copied through the blob
 *    store's own put (a temp file, synced, renamed) and checked against the element's recorded sha256 on the
 *    way. Blob paths are never reused (new content gets a new path), so a file already in the target from an
 *    earlier backup is the same content: it is kept, and a second backup into the same folder copies only what
 *    is new.
 * 3. The snapshot renamed into place: until then the folder holds the previous backup, whole.
 * 4. Files the new snapshot does not name (deleted since the previous backup) removed.
 *
 * Content deleted between the snapshot and its copy is reported as missing, not guessed at.
 */
export async function backupEmbeddedStorage(dataDir: string, targetDir: string): Promise<StorageBackupReport> {
  const started = Date.now();
  const source = resolve(dataDir);
  const target = resolve(targetDir);
  assertBackupable(source, target);
  mkdirSync(join(target, BLOBS_FOLDER), { recursive: true });
  const next = join(target, NEXT_SNAPSHOT);
  snapshotDatabase(join(source, METADATA_DATABASE_FILE), next);

  const sourceBlobs = new FilesystemBlobStore(join(source, BLOBS_FOLDER));
  const targetBlobs = new FilesystemBlobStore(join(target, BLOBS_FOLDER));
  await targetBlobs.init();
  // Temp files an interrupted backup left in the target.
  await targetBlobs.removeAbandonedUploads(new Date());
  const report: StorageBackupReport = {
    source,
    target,
    finished: '',
    instances: 0,
    dataElements: 0,
    inDatabase: 0,
    files: { copied: 0, bytesCopied: 0, alreadyThere: 0, removed: 0 },
    missing: [],
    damaged: [],
    milliseconds: 0,
  };

  const snapshot = openReadOnly(next);
  try {
    const inDatabase = snapshot.prepare<[string], number>('SELECT 1 FROM inline_contents WHERE key = ?').pluck();
    for (const page of instancePages(snapshot)) {
      const files: { instance: Instance; element: DataElement }[] = [];
      for (const instance of page) {
        report.instances += 1;
        for (const element of instance.data) {
          report.dataElements += 1;
          if (inDatabase.get(element.blobStoragePath) !== undefined) report.inDatabase += 1;
          else files.push({ instance, element });
        }
      }
      await inParallel(files, COPIES_AT_ONCE, ({ instance, element }) => copyContent(sourceBlobs, targetBlobs, instance, element, report));
    }
  } finally {
    snapshot.close();
  }
  renameSync(next, join(target, METADATA_DATABASE_FILE));
  syncDirectory(target);

  const current = openReadOnly(join(target, METADATA_DATABASE_FILE));
  try {
    report.files.removed = removeUnnamedFiles(current, join(target, BLOBS_FOLDER));
  } finally {
    current.close();
  }
  report.milliseconds = Date.now() - started;
  report.finished = new Date().toISOString();
  writeFileSync(join(target, BACKUP_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** One line for an operator: what the backup holds and what it copied. */
export function describeStorageBackup(report: StorageBackupReport): string {
  const { files } = report;
  const megabytes = (files.bytesCopied / 1e6).toFixed(1);
  const problems = report.missing.length + report.damaged.length;
  return (
    `storage backup of ${report.source} in ${report.target}: ${report.instances} instances, ${report.dataElements} data elements ` +
    `(${report.inDatabase} in the database; files: ${files.copied} copied (${megabytes} MB), ${files.alreadyThere} already there, ` +
    `${files.removed} removed)${problems > 0 ? `, ${report.missing.length} missing, ${report.damaged.length} damaged` : ''}; ${report.milliseconds} ms`
  );
}

/** One line per element whose content is missing or damaged, for stderr. */
export function describeBackupProblems(report: StorageBackupReport): string[] {
  const line = (kind: string) => ({ instanceId, dataElementId, reason }: BlobProblem) => `${kind}: data element ${dataElementId} of instance ${instanceId}: ${reason}`;
  return [...report.missing.map(line('missing')), ...report.damaged.map(line('damaged'))];
}

function assertBackupable(source: string, target: string): void {
  assertSeparateFolders(source, target);
  if (!existsSync(join(source, METADATA_DATABASE_FILE))) {
    throw new BackupTargetError(`${join(source, METADATA_DATABASE_FILE)} does not exist: is DATA_DIR the storage service's?`);
  }
}

function* instancePages(db: SqliteDatabase): Generator<Instance[]> {
  const page = db.prepare<[string, number], { guid: string; doc: string }>('SELECT guid, doc FROM instances WHERE guid > ? ORDER BY guid LIMIT ?');
  let after = '';
  for (;;) {
    const rows = page.all(after, PAGE_SIZE);
    if (rows.length === 0) return;
    yield rows.map((row) => JSON.parse(row.doc) as Instance);
    after = (rows.at(-1) as { guid: string }).guid;
  }
}

async function copyContent(from: FilesystemBlobStore, to: FilesystemBlobStore, instance: Instance, element: DataElement, report: StorageBackupReport): Promise<void> {
  const key = element.blobStoragePath;
  const problem = (reason: string): BlobProblem => ({ instanceId: instance.id, dataElementId: element.id, blobStoragePath: key, reason });
  // Never reused: a file of the recorded size there is this content, copied and checked by an earlier backup.
  if ((await to.stat(key))?.size === element.size) {
    report.files.alreadyThere += 1;
    return;
  }
  const read = await from.get(key);
  if (!read) {
    report.missing.push(problem(`not in DATA_DIR/${BLOBS_FOLDER} (deleted after the snapshot, or lost)`));
    return;
  }
  const hash = createHash('sha256');
  let size = 0;
  // Hashes what the put takes, as it takes it (a 'data' listener would let bytes flow past a put not yet reading).
  const hashed = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  read.body.on('error', (error) => hashed.destroy(error));
  await to.put(key, read.body.pipe(hashed), { contentType: element.contentType });
  report.files.copied += 1;
  report.files.bytesCopied += size;
  const sha256 = hash.digest('hex');
  const damage = size !== element.size ? `size ${size} != recorded ${element.size}` : sha256 !== element.contentHash ? 'sha256 differs from the recorded contentHash' : undefined;
  if (damage === undefined) return;
  report.damaged.push(problem(damage));
  // Not kept: a file of the recorded size would pass for checked content in the next backup, which is to check it again.
  await to.delete(key);
}

/** Removes every blob file below `root` that no data element of the database names; returns how many. */
function removeUnnamedFiles(db: SqliteDatabase, root: string): number {
  const instanceDoc = db.prepare<[string], string>('SELECT doc FROM instances WHERE guid = ?').pluck();
  const named = (key: string): boolean => {
    // Keys are <org>/<app>/<instance guid>/data/<element id>[.<upload id>] (DataService.blobPath).
    const guid = key.split('/')[2];
    const doc = guid === undefined ? undefined : instanceDoc.get(guid);
    return doc !== undefined && (JSON.parse(doc) as Instance).data.some((element) => element.blobStoragePath === key);
  };
  let removed = 0;
  for (const path of filesBelow(root)) {
    const key = relative(root, path).split(sep).join('/');
    if (named(key)) continue;
    unlinkSync(path);
    removed += 1;
  }
  return removed;
}

/** Every file below `root`, its blob store's in-progress folder and dot-files left out. */
function* filesBelow(root: string): Generator<string> {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    if (entry.isDirectory()) yield* filesBelow(path);
    else if (entry.isFile()) yield path;
  }
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

