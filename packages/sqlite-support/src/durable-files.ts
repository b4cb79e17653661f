import { closeSync, constants, copyFileSync, fdatasyncSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Where a file is written before it replaces `target`: beside it (one file system, so the rename is atomic), hidden. */
export function partialPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.partial`);
}

/** Syncs the finished `partial` and renames it onto `target`, durably: `target` is the old or the new content. */
export function replaceDurably(partial: string, target: string): void {
  syncFileData(partial);
  renameSync(partial, target);
  syncDirectory(dirname(target));
}

/** Copies a small file (a key, a settings file) so that `target` is the old or the new content, durably. */
export function copyFileDurably(source: string, target: string): void {
  const partial = partialPathOf(target);
  copyFileSync(source, partial, constants.COPYFILE_FICLONE);
  replaceDurably(partial, target);
}

/** fdatasync of a file by its path: its data is on disk when this returns. */
export function syncFileData(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename (or a new file) in `folder` durable. */
export function syncDirectory(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
