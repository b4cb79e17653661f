import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobRangeNotSatisfiableError,
  BlobStoreFullError,
  type BlobRead,
  type BlobStore,
  type ByteRange,
} from '../../domain/ports/blob-store';
import { assertValidByteRange } from './byte-range';

/** Thrown for keys that are not plain relative paths below the root (traversal, absolute, backslashes, ...). */
export class InvalidBlobKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`Invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

/** The filesystem blob store's folder in DATA_DIR (and in a backup of it, which is a DATA_DIR too). */
export const BLOBS_FOLDER = 'blobs';

/**
 * Puts in progress write here, below the root (so the rename onto the target stays on one filesystem). Key
 * segments may not start with a dot, so no key can reach it; one folder keeps the reaper's sweep small.
 */
const INCOMING_FOLDER = '.incoming';
const TEMP_FILE_SUFFIX = '.tmp';
/** `.<name>.<uuid>.tmp`, the temp files of earlier versions; no key segment may start with a dot. */
const LEGACY_TEMP_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;
/** What the readiness probe writes: a failing write of this much means uploads fail too. */
const WRITE_PROBE_BYTES = 4096;
/**
 * Reads in 1 MiB chunks rather than the default 64 KiB: a download costs a read, a hash update and a socket write
 * per chunk, and at 64 KiB that per-chunk work, not the bytes, bounded a 1 GiB download. Writes buffer up to 1 MiB
 * (default 16 KiB) so that the request's 64 KiB chunks go to the disk several at a time, while the socket goes on.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Errors that mean "no room", whichever limit was hit: disk, quota, or the largest file the process may write. */
const FULL_ERROR_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * Stores each blob as a file below `rootDirectory`, at the path given by its key.
 * Writes go to a uniquely named temp file in `.incoming/` and are renamed onto the target once complete
 * and fsynced, so readers only ever see the previous or the new content, never a mix. A crash leaves at
 * most a temp file there, which `removeAbandonedUploads` deletes once it has stopped growing.
 */
export class FilesystemBlobStore implements BlobStore {
  private readonly rootDirectory: string;
  /** Whether this process has swept the whole tree once for temp files of earlier versions (see below). */
  private legacyTempFilesSwept = false;
  /** Temp files of this process's puts in progress: never abandoned, however quiet their client. */
  private readonly tempFilesInUse = new Set<string>();

  constructor(rootDirectory: string) {
    this.rootDirectory = resolve(rootDirectory);
  }

  private get incomingFolder(): string {
    return join(this.rootDirectory, INCOMING_FOLDER);
  }

  async init(): Promise<void> {
    await mkdir(this.incomingFolder, { recursive: true });
  }

  /** Ready means writable: a small write must succeed, so a full disk or a read-only mount shows on /ready. */
  async ping(): Promise<void> {
    const rootStats = await stat(this.rootDirectory);
    if (!rootStats.isDirectory()) {
      throw new Error(`Blob root ${this.rootDirectory} is not a directory`);
    }
    await access(this.rootDirectory, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
    const probe = join(this.incomingFolder, `ready-probe.${randomUUID()}${TEMP_FILE_SUFFIX}`);
    try {
      await writeFile(probe, Buffer.alloc(WRITE_PROBE_BYTES), { flag: 'wx', flush: true });
    } catch (error) {
      throw isFullError(error) ? new BlobStoreFullError(error) : error;
    } finally {
      await unlink(probe).catch(() => undefined);
    }
  }

  async put(key: string, body: Readable, _options: { contentType: string }): Promise<void> {
    // The content type is not stored: the metadata store keeps it with the data element.
    let tempPath: string | undefined;
    let inUse: string | undefined;
    try {
      const targetPath = this.pathFor(key);
      // Unique per call so concurrent puts to the same key never write into each other's temp file.
      tempPath = join(this.incomingFolder, `${incomingPrefix(key)}${randomUUID()}${TEMP_FILE_SUFFIX}`);
      await mkdir(this.incomingFolder, { recursive: true });
      inUse = tempPath;
      this.tempFilesInUse.add(inUse);
      // flush: fsync before the stream closes, so the rename below never publishes unwritten data.
      await pipeline(body, createWriteStream(tempPath, { flags: 'wx', flush: true, highWaterMark: WRITE_BUFFER_BYTES }));
      const folder = dirname(targetPath);
      await mkdir(folder, { recursive: true });
      await rename(tempPath, targetPath);
      tempPath = undefined;
      await syncDirectory(folder);
    } catch (error) {
      // pipeline has closed the temp file by now, whichever side failed.
      if (tempPath !== undefined) await unlink(tempPath).catch(() => undefined);
      // pipeline destroys `body` itself when it fails; this covers failures before it ran.
      if (!body.destroyed) body.destroy();
      throw isFullError(error) ? new BlobStoreFullError(error) : error;
    } finally {
      if (inUse !== undefined) this.tempFilesInUse.delete(inUse);
    }
  }

  async lastActivity(key: string): Promise<Date | null> {
    const prefix = incomingPrefix(key);
    const candidates = [this.pathFor(key)];
    for (const name of await this.incomingNames()) {
      const path = join(this.incomingFolder, name);
      if (!name.startsWith(prefix)) continue;
      if (this.tempFilesInUse.has(path)) return new Date();
      candidates.push(path);
    }
    let latest: number | null = null;
    for (const path of candidates) {
      const modified = await modifiedTime(path);
      if (modified !== null && (latest === null || modified > latest)) latest = modified;
    }
    return latest === null ? null : new Date(latest);
  }

  async removeAbandonedUploads(idleSince: Date): Promise<number> {
    let removed = 0;
    if (!this.legacyTempFilesSwept) {
      removed += await removeLegacyTempFiles(this.rootDirectory, idleSince);
      this.legacyTempFilesSwept = true;
    }
    for (const name of await this.incomingNames()) {
      if (!name.endsWith(TEMP_FILE_SUFFIX)) continue;
      const path = join(this.incomingFolder, name);
      if (this.tempFilesInUse.has(path)) continue;
      const modified = await modifiedTime(path);
      // A put still writing keeps its file's modification time fresh.
      if (modified === null || modified >= idleSince.getTime()) continue;
      try {
        await unlink(path);
        removed++;
      } catch (error) {
        if (!isMissingFileError(error)) throw error;
      }
    }
    return removed;
  }

  private async incomingNames(): Promise<string[]> {
    try {
      return await readdir(this.incomingFolder);
    } catch (error) {
      if (isMissingFileError(error)) return [];
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
    const path = this.pathFor(key);
    if (range) assertValidByteRange(range);

    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
    try {
      // Size and content come from the same open file, so a concurrent replace cannot make them disagree.
      const fileStats = await file.stat();
      if (!fileStats.isFile()) {
        await file.close();
        return null;
      }
      const totalSize = fileStats.size;
      if (range && range.start >= totalSize) {
        throw new BlobRangeNotSatisfiableError(range, totalSize);
      }
      // The read stream closes the handle once it ends or is destroyed.
      const body = file.createReadStream({ highWaterMark: READ_CHUNK_BYTES, ...(range && { start: range.start, end: range.end }) });
      return { body, totalSize };
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathFor(key));
    } catch (error) {
      if (!isMissingFileError(error)) throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const fileStats = await stat(this.pathFor(key));
      return fileStats.isFile() ? { size: fileStats.size } : null;
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** Maps a key to its file path, refusing anything that could resolve outside the root. */
  private pathFor(key: string): string {
    assertSafeKey(key);
    const path = resolve(this.rootDirectory, ...key.split('/'));
    // Defence in depth: the segment checks above should already make this impossible.
    const pathFromRoot = relative(this.rootDirectory, path);
    if (pathFromRoot === '' || pathFromRoot.startsWith('..') || isAbsolute(pathFromRoot)) {
      throw new InvalidBlobKeyError(key, 'resolves outside the blob root');
    }
    return path;
  }
}

/**
 * Earlier versions wrote temp files beside their target, as `.<name>.<uuid>.tmp`; a crash left them there.
 * Walks the tree once per process (the reaper's first pass) and removes those idle since `idleSince`.
 */
async function removeLegacyTempFiles(folder: string, idleSince: Date): Promise<number> {
  let removed = 0;
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isMissingFileError(error)) return 0;
    throw error;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== INCOMING_FOLDER) removed += await removeLegacyTempFiles(path, idleSince);
    } else if (LEGACY_TEMP_FILE.test(entry.name)) {
      const modified = await modifiedTime(path);
      if (modified !== null && modified < idleSince.getTime()) {
        await unlink(path).catch((error: unknown) => {
          if (!isMissingFileError(error)) throw error;
        });
        removed++;
      }
    }
  }
  return removed;
}

/** Temp file names of a key start with a hash of it: fixed length, whatever the key's depth or length. */
function incomingPrefix(key: string): string {
  return `${createHash('sha256').update(key).digest('hex')}.`;
}

async function modifiedTime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch (error) {
    if (isMissingFileError(error)) return null;
    throw error;
  }
}

function isFullError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && FULL_ERROR_CODES.has(code);
}

function assertSafeKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidBlobKeyError(String(key), 'empty');
  if (key.includes('\0')) throw new InvalidBlobKeyError(key, 'contains a NUL character');
  if (key.includes('\\')) throw new InvalidBlobKeyError(key, 'contains a backslash');
  if (key.startsWith('/') || isAbsolute(key)) throw new InvalidBlobKeyError(key, 'is absolute');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidBlobKeyError(key, 'has an empty path segment');
    // Covers "." and "..", and keeps keys from colliding with temp files.
    if (segment.startsWith('.')) throw new InvalidBlobKeyError(key, 'has a path segment starting with "."');
  }
}

/** Makes a completed rename durable; skipped where directories cannot be fsynced. */
async function syncDirectory(folder: string): Promise<void> {
  let directory: FileHandle | undefined;
  try {
    directory = await open(folder, 'r');
    await directory.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw error;
  } finally {
    await directory?.close().catch(() => undefined);
  }
}

/** ENOTDIR: a parent segment of the key is a file, so the blob cannot exist either. */
function isMissingFileError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
