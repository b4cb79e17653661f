import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders this process holds a lock on, to tell our own live lock from a stale file left by an earlier process with our pid. */
const heldHere = new Set<string>();

export class DataDirLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(`${directory} is in use by process ${pid} (a token service, or npm run up, running on it): stop that process first, or use another DATA_DIR`);
    this.name = 'DataDirLockedError';
  }
}

/**
 * An exclusive lock on DATA_DIR for the embedded client store and the keyring file: both live in memory in
 * the process that opened them, so a second writer (the CLI beside a running service) would go unseen or
 * overwrite. The lock is a file holding the owner's pid; a file whose process is gone is taken over.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(directory: string): Promise<DataDirLock> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, '.lock');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        heldHere.add(path);
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner) && (owner !== process.pid || heldHere.has(path))) {
        throw new DataDirLockedError(directory, owner);
      }
      await rm(path, { force: true }); // stale: its process has ended (or was an earlier life of this pid, say in a restarted container)
    }
    throw new Error(`could not lock ${directory}`);
  }

  async release(): Promise<void> {
    heldHere.delete(this.path);
    await rm(this.path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
