import { randomUUID } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobRangeNotSatisfiableError, type BlobRead, type BlobStore, type ByteRange } from '../../domain/ports/blob-store';
import { assertValidByteRange } from './byte-range';

/** Thrown for keys that are not plain relative paths below the root (traversal, absolute, backslashes, ...). */
export class InvalidBlobKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`Invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

/** Temp files start with this prefix, which is why key segments may not start with a dot. */
const TEMP_FILE_PREFIX = '.';
const TEMP_FILE_SUFFIX = '.tmp';

/**
 * Stores each blob as a file below `rootDirectory`, at the path given by its key.
 * Writes go to a uniquely named temp file in the target folder and are renamed over the target once
 * complete and fsynced, so readers only ever see the previous or the new content, never a mix.
 */
export class FilesystemBlobStore implements BlobStore {
  private readonly rootDirectory: string;

  constructor(rootDirectory: string) {
    this.rootDirectory = resolve(rootDirectory);
  }

  async init(): Promise<void> {
    await mkdir(this.rootDirectory, { recursive: true });
  }

  async ping(): Promise<void> {
    const rootStats = await stat(this.rootDirectory);
    if (!rootStats.isDirectory()) {
      throw new Error(`Blob root ${this.rootDirectory} is not a directory`);
    }
    await access(this.rootDirectory, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
  }

  async put(key: string, body: Readable, _options: { contentType: string }): Promise<void> {
    // The content type is not stored: the metadata store keeps it with the data element.
    let tempPath: string | undefined;
    try {
      const targetPath = this.pathFor(key);
      const folder = dirname(targetPath);
      await mkdir(folder, { recursive: true });
      // Unique per call so concurrent puts to the same key never write into each other's temp file.
      tempPath = join(folder, `${TEMP_FILE_PREFIX}${basename(targetPath)}.${randomUUID()}${TEMP_FILE_SUFFIX}`);
      // flush: fsync before the stream closes, so the rename below never publishes unwritten data.
      await pipeline(body, createWriteStream(tempPath, { flags: 'wx', flush: true }));
      await rename(tempPath, targetPath);
      tempPath = undefined;
      await syncDirectory(folder);
    } catch (error) {
      // pipeline has closed the temp file by now, whichever side failed.
      if (tempPath !== undefined) await unlink(tempPath).catch(() => undefined);
      // pipeline destroys `body` itself when it fails; this covers failures before it ran.
      if (!body.destroyed) body.destroy();
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
      const body = file.createReadStream(range ? { start: range.start, end: range.end } : {});
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
