import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyringStore, StoredSigningKey } from '../domain/keyring';

interface KeyringFile {
  version: 1;
  keys: readonly StoredSigningKey[];
}

/**
 * The managed keyring in one JSON file (private keys included), readable by the owner only. Written to a
 * temporary file, flushed and renamed, so a crash leaves the old keyring or the new one, never half of one.
 */
export class FileKeyringStore implements KeyringStore {
  constructor(readonly path: string) {}

  async load(): Promise<StoredSigningKey[] | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<KeyringFile>;
    if (parsed.version !== 1 || !Array.isArray(parsed.keys) || !parsed.keys.every(isStoredKey)) {
      // Never silently replace a keyring we cannot read: tokens signed with its keys would stop verifying.
      throw new Error(`${this.path} is not a keyring file this service can read; fix or remove it`);
    }
    return [...parsed.keys];
  }

  async save(keys: readonly StoredSigningKey[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ version: 1, keys } satisfies KeyringFile, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}

function isStoredKey(value: unknown): value is StoredSigningKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Record<string, unknown>;
  return typeof key.kid === 'string' && typeof key.publicJwk === 'object' && key.publicJwk !== null && typeof key.createdAt === 'string';
}
