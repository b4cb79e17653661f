import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseLockedError } from '@forms/sqlite-support';
import type { ClientStore } from '../../src/domain/ports/client-store';
import { SqliteClientStore } from '../../src/adapters/sqlite-client-store';
import { buildClient, describeClientStoreContract } from '../contract/client-store.contract';

const directories = new Map<ClientStore, string>();

async function openStore(directory: string, legacy?: string): Promise<SqliteClientStore> {
  const store = new SqliteClientStore(directory, legacy);
  await store.init();
  directories.set(store, directory);
  return store;
}

describeClientStoreContract('SqliteClientStore', {
  createEmpty: async () => openStore(await mkdtemp(join(tmpdir(), 'auth-clients-'))),
  reopen: async (store) => {
    const directory = directories.get(store);
    if (!directory) throw new Error('store was not created by this target');
    return openStore(directory);
  },
  sharedBetweenProcesses: false,
  cleanup: async () => {
    for (const directory of new Set(directories.values())) await rm(directory, { recursive: true, force: true });
    directories.clear();
  },
});

describe('SqliteClientStore', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'auth-clients-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('keeps its database in the data directory and refuses a second opener', async () => {
    const store = await openStore(directory);
    try {
      expect(await readdir(directory)).toContain('clients.sqlite');
      await expect(new SqliteClientStore(directory).init()).rejects.toBeInstanceOf(DatabaseLockedError);
    } finally {
      await store.close();
    }
  });

  it('imports the journals of the earlier embedded store on first start and sets them aside', async () => {
    const legacy = join(directory, 'db');
    await mkdir(legacy);
    const kept = buildClient({ clientId: 'kept' });
    const line = (op: object) => `${JSON.stringify(op)}\n`;
    await writeFile(
      join(legacy, 'clients.jsonl'),
      line({ op: 'put', id: 'kept', doc: kept }) + line({ op: 'put', id: 'gone', doc: buildClient({ clientId: 'gone' }) }) + line({ op: 'del', id: 'gone' }) + '{"op":"put","id":"torn"',
    );
    const expiresAt = new Date(Date.now() + 60_000);
    await writeFile(join(legacy, 'assertionIds.jsonl'), line({ op: 'put', id: JSON.stringify(['kept', 'jti-1']), doc: { expiresAt: expiresAt.toISOString() } }));

    const store = await openStore(directory, legacy);
    try {
      expect(await store.listClients()).toEqual([kept]);
      expect(await store.rememberAssertionId('kept', 'jti-1', expiresAt, new Date())).toBe(false);
      expect((await readdir(directory)).filter((name) => name.startsWith('db'))).toEqual([expect.stringMatching(/^db\.imported-/)]);
    } finally {
      await store.close();
    }
  });
});
