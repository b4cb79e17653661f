import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientStore } from '../../src/domain/ports/client-store';
import { EmbeddedClientStore } from '../../src/adapters/embedded-client-store';
import { describeClientStoreContract } from '../contract/client-store.contract';

const directories = new Map<ClientStore, string>();

async function openStore(directory: string): Promise<EmbeddedClientStore> {
  const store = new EmbeddedClientStore(directory);
  await store.init();
  directories.set(store, directory);
  return store;
}

describeClientStoreContract('EmbeddedClientStore', {
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

describe('EmbeddedClientStore', () => {
  it('keeps a journal per collection in its folder', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'auth-clients-'));
    const store = await openStore(directory);
    try {
      await store.rememberAssertionId('c', 'j', new Date(Date.now() + 60_000), new Date());
      expect((await readdir(directory)).sort()).toEqual(['assertionIds.jsonl', 'clients.jsonl']);
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
