import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedMetadataStore } from '../../src/adapters/metadata/embedded-metadata-store';
import type { MetadataStore } from '../../src/domain/ports/metadata-store';
import { describeMetadataStoreContract } from '../contract/metadata-store.contract';
import { buildInstance, guidOf } from '../contract/test-data';

/** Every store gets its own temporary data directory, removed after the suite. */
const directories = new Map<MetadataStore, string>();

async function openStore(directory: string): Promise<EmbeddedMetadataStore> {
  const store = new EmbeddedMetadataStore(directory);
  await store.init();
  directories.set(store, directory);
  return store;
}

async function removeDirectories(): Promise<void> {
  for (const directory of new Set(directories.values())) await rm(directory, { recursive: true, force: true });
  directories.clear();
}

describeMetadataStoreContract('EmbeddedMetadataStore', {
  createEmpty: async () => openStore(await mkdtemp(join(tmpdir(), 'embedded-metadata-'))),
  reopen: async (closedStore) => {
    const directory = directories.get(closedStore);
    if (!directory) throw new Error('store was not created by this target');
    return openStore(directory);
  },
  cleanup: removeDirectories,
});

describe('EmbeddedMetadataStore', () => {
  let directory: string;
  const stores: EmbeddedMetadataStore[] = [];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'embedded-metadata-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  const open = async () => {
    const store = new EmbeddedMetadataStore(directory);
    stores.push(store);
    await store.init();
    return store;
  };

  it('keeps one journal file per collection in the data directory', async () => {
    const store = await open();
    await store.instances.insert(buildInstance());
    expect((await readdir(directory)).sort()).toEqual(['applications.jsonl', 'instanceEvents.jsonl', 'instances.jsonl', 'pendingUploads.jsonl', 'scanQueue.jsonl']);
  });

  it('starts after a crash that tore the last journal line', async () => {
    const first = await open();
    const instance = buildInstance();
    await first.instances.insert(instance);
    await first.close();
    await appendFile(join(directory, 'instances.jsonl'), '{"op":"put","id":"torn","doc":{"id":"1/');

    const reopened = await open();
    expect(await reopened.instances.query({ limit: 10 })).toEqual([instance]);
    await reopened.instances.insert(buildInstance({ guid: 'abcdef00-0000-4000-8000-000000000000' }));
    expect(await reopened.instances.get('abcdef00-0000-4000-8000-000000000000')).not.toBeNull();
    expect(await reopened.instances.get(guidOf(instance))).toEqual(instance);
  });

  it('refuses to start over a damaged journal rather than serve partial data', async () => {
    const first = await open();
    await first.instances.insert(buildInstance());
    await first.close();
    await appendFile(join(directory, 'instances.jsonl'), 'garbage\n{"op":"del","id":"x"}\n');

    await expect(open()).rejects.toThrow(/corrupt/);
  });

  it('reports unavailable before init', async () => {
    const store = new EmbeddedMetadataStore(directory);
    await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable' });
    expect(() => store.applications).toThrow(/not open/);
  });
});
