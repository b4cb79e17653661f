import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

export interface WriteOptions {
  /** Called with the bytes written so far, after each chunk. */
  onProgress?: (bytes: number) => void;
  /** When given, the content must hash to this (lower-case hex sha256) or the file is not put in place. */
  expectedSha256?: string;
  /** When given, the content must have exactly this many bytes. */
  expectedSize?: number;
  /** File mode of the new file. Default 0o644 (less the umask). */
  mode?: number;
}

export interface WriteResult {
  path: string;
  bytes: number;
  sha256: string;
}

/** How files get written; a seam, so tests can make a write fail as a crash would. */
export type WriteFile = (path: string, source: Readable | Buffer | string, options?: WriteOptions) => Promise<WriteResult>;

/** Temp files start with a dot and end like this, beside their target, so a crash leaves them recognisable. */
export const PARTIAL_SUFFIX = '.partial';

export const partialPathFor = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);

/**
 * Writes a file so that it is either all there or not there: the content goes to a temp file beside the target,
 * is flushed to disk (fsync), and only then renamed over the target; the folder is fsynced after the rename so the
 * new name survives a power cut too. Content that does not match `expectedSha256`/`expectedSize` is never put in place.
 */
export const writeFileAtomic: WriteFile = async (path, source, options = {}) => {
  const temp = partialPathFor(path);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  const hash = createHash('sha256');
  let bytes = 0;
  let closed = false;
  try {
    const chunks: AsyncIterable<unknown> | Iterable<unknown> = typeof source === 'string' || Buffer.isBuffer(source) ? [source] : source;
    for await (const chunk of chunks) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      hash.update(buffer);
      // Awaiting each write is the back-pressure: the source is not read faster than the disk takes it.
      for (let offset = 0; offset < buffer.length; ) offset += (await handle.write(buffer, offset)).bytesWritten;
      bytes += buffer.length;
      options.onProgress?.(bytes);
    }
    const sha256 = hash.digest('hex');
    if (options.expectedSize !== undefined && bytes !== options.expectedSize) {
      throw new Error(`${basename(path)}: got ${bytes} bytes, expected ${options.expectedSize}`);
    }
    if (options.expectedSha256 && sha256 !== options.expectedSha256.toLowerCase()) {
      throw new Error(`${basename(path)}: content hash ${sha256} differs from the expected ${options.expectedSha256}`);
    }
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(temp, path);
    await syncFolder(dirname(path));
    return { path, bytes, sha256 };
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    if (typeof source === 'object' && !Buffer.isBuffer(source)) source.destroy();
    throw error;
  }
};

/** fsync of a folder, which makes renames and new entries in it durable. Not possible everywhere (Windows): then skipped. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Removes temp files a crashed earlier run left in `folder`; returns their names. */
export async function removePartials(folder: string): Promise<string[]> {
  const names = (await readdir(folder).catch(() => [] as string[])).filter((name) => name.startsWith('.') && name.endsWith(PARTIAL_SUFFIX));
  await Promise.all(names.map((name) => unlink(join(folder, name)).catch(() => undefined)));
  return names;
}
