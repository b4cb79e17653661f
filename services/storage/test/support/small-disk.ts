import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** The service's DATA_DIR: metadata on the ordinary disk, `blobs/` on the small one. */
  dataDir: string;
  blobRoot: string;
  /** Writes a file until the small disk refuses: afterwards not even 4 KiB fit. */
  fill(): Promise<void>;
  /** Removes that file: the space is back. */
  free(): Promise<void>;
  /** Unmounts and removes everything. */
  remove(): void;
}

/**
 * A real small disk for the blob folder: a tmpfs of `sizeMb` mounted at DATA_DIR/blobs. Mounting needs root
 * (as on this project's machines and CI); returns null where it is refused, and the caller skips its tests.
 */
export function mountSmallDisk(sizeMb: number, label: string): SmallDisk | null {
  const dataDir = mkdtempSync(join(tmpdir(), `${label}-`));
  const blobRoot = join(dataDir, 'blobs');
  mkdirSync(blobRoot);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', blobRoot], { stdio: 'ignore' });
  } catch {
    rmSync(dataDir, { recursive: true, force: true });
    console.warn(`${label}: cannot mount a tmpfs (needs root); skipped`);
    return null;
  }
  const filler = join(blobRoot, 'filler');
  return {
    dataDir,
    blobRoot,
    async fill() {
      for (const chunkSize of [64 * 1024, 512]) {
        const file = await open(filler, 'a');
        try {
          for (;;) await file.write(Buffer.alloc(chunkSize, 1));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        } finally {
          await file.close();
        }
      }
    },
    async free() {
      rmSync(filler, { force: true });
    },
    remove() {
      execFileSync('umount', [blobRoot]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
