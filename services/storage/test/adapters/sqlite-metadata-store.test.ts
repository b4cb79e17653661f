import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../src/adapters/metadata/sqlite/sqlite-metadata-store';
import type { Instance } from '@forms/contracts';
import { DatabaseCorruptError, DatabaseLockedError, openSqlite } from '@forms/sqlite-support';
import { instanceQuerySql } from '../../src/adapters/metadata/sqlite/query-sql';
import { METADATA_MIGRATIONS } from '../../src/adapters/metadata/sqlite/schema';
import type { InstanceQuery, MetadataStore } from '../../src/domain/ports/metadata-store';
import { describeMetadataStoreContract } from '../contract/metadata-store.contract';
import { at, buildApplication, buildEvent, buildInstance, buildPendingUpload, guidOf, processInTask } from '../contract/test-data';

/** Every store gets its own temporary data directory, removed after the suite. */
const directories = new Map<MetadataStore, string>();

async function openStore(directory: string): Promise<SqliteMetadataStore> {
  const store = new SqliteMetadataStore(directory);
  await store.init();
  directories.set(store, directory);
  return store;
}

describeMetadataStoreContract('SqliteMetadataStore', {
  createEmpty: async () => openStore(await mkdtemp(join(tmpdir(), 'sqlite-metadata-'))),
  reopen: async (closedStore) => {
    const directory = directories.get(closedStore);
    if (!directory) throw new Error('store was not created by this target');
    return openStore(directory);
  },
  cleanup: async () => {
    for (const directory of new Set(directories.values())) await rm(directory, { recursive: true, force: true });
    directories.clear();
  },
});

describe('SqliteMetadataStore', () => {
  let directory: string;
  const stores: SqliteMetadataStore[] = [];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'sqlite-metadata-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  const open = async (options: ConstructorParameters<typeof SqliteMetadataStore>[1] = {}) => {
    const store = new SqliteMetadataStore(directory, options);
    await store.init();
    stores.push(store);
    return store;
  };

  it('runs in WAL mode, its log synced by group commit (synchronous NORMAL), with a versioned schema', async () => {
    const store = await open();
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    // NORMAL: SQLite does not fsync at COMMIT on the event loop; group commit syncs the log before answering (ADR 0015).
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1);
    expect(store.database.pragma('user_version', { simple: true })).toBe(METADATA_MIGRATIONS.length);
  });

  it('answers a readiness probe in the same turn as a read (the read transaction of the turn is let go first)', async () => {
    const store = await open();
    const instance = buildInstance({ appId: 'acme/tax' });
    await store.instances.insert(instance);
    expect(await store.instances.get(guidOf(instance))).toEqual(instance);
    expect(store.database.inTransaction).toBe(true);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('keeps small content with the instance write that refers to it, all or nothing (ADR 0018)', async () => {
    const store = await open();
    const instance = buildInstance({ appId: 'acme/tax' });
    const form = { key: `acme/tax/${guidOf(instance)}/data/form`, bytes: Buffer.from('{"name":"Kari"}') };
    await store.instances.insert(instance, { inlineContents: [form] });
    expect(await store.inlineContents.get(form.key)).toEqual(form.bytes);
    expect(await store.inlineContents.get('acme/tax/other')).toBeNull();

    // A replace that loses its version check stores nothing of what came with it.
    const lost = { key: `${form.key}.lost`, bytes: Buffer.from('lost') };
    expect(await store.instances.replace({ ...instance, version: 2 }, 7, { inlineContents: [lost] })).toBe(false);
    expect(await store.inlineContents.get(lost.key)).toBeNull();
    const kept = { key: `${form.key}.next`, bytes: Buffer.from('next') };
    expect(await store.instances.replace({ ...instance, version: 2 }, instance.version, { inlineContents: [kept] })).toBe(true);
    expect(await store.inlineContents.get(kept.key)).toEqual(kept.bytes);

    // A duplicate insert stores nothing of its content either.
    await expect(store.instances.insert(instance, { inlineContents: [lost] })).rejects.toThrow();
    expect(await store.inlineContents.get(lost.key)).toBeNull();

    await store.inlineContents.delete(form.key);
    await store.inlineContents.delete(form.key);
    expect(await store.inlineContents.get(form.key)).toBeNull();
    expect(await store.inlineContents.get(kept.key)).toEqual(kept.bytes);
  });

  it('refuses a second opener of the same data directory with one clear line', async () => {
    await open();
    const second = new SqliteMetadataStore(directory);
    const error = await second.init().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseLockedError);
    expect((error as Error).message).toBe(`${join(directory, 'metadata.sqlite')} is in use by another storage process (one process per DATA_DIR): stop it or use another DATA_DIR`);
  });

  it('opens again once the first holder has closed', async () => {
    const first = await open();
    await first.instances.insert(buildInstance());
    await first.close();
    const second = await open();
    expect(await second.instances.query({ limit: 10 })).toHaveLength(1);
  });

  it('reports a malformed database file clearly instead of serving from it', async () => {
    await writeFile(join(directory, 'metadata.sqlite'), Buffer.alloc(8192, 7));
    const error = await new SqliteMetadataStore(directory).init().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseCorruptError);
    expect((error as Error).message).toMatch(/metadata\.sqlite is damaged \(.*\): see the README's "Repairing the embedded database"/);
  });

  it('answers a write on a full disk with insufficient_storage, stores nothing of it, and recovers once there is room', async () => {
    const store = await open();
    const db = store.database;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    const instances = Array.from({ length: 40 }, () => buildInstance());
    let failure: unknown;
    let stored = 0;
    for (const instance of instances) {
      const created = buildEvent(instance, 'Created', at(0));
      failure = await store.instances.insert(instance, { events: [created] }).catch((caught: unknown) => caught);
      if (failure) break;
      stored += 1;
    }
    expect(failure).toMatchObject({ kind: 'insufficient_storage', code: 'METADATA_STORE_FULL' });
    const refused = instances[stored] as Instance;
    expect(await store.instances.get(guidOf(refused))).toBeNull();
    expect(await store.events.list(refused.id, {})).toEqual([]);
    await expect(store.ping()).rejects.toMatchObject({ kind: 'insufficient_storage' });

    db.pragma('max_page_count = 1073741823');
    await expect(store.ping()).resolves.toBeUndefined();
    await store.instances.insert(refused, { events: [buildEvent(refused, 'Created', at(0))] });
    expect(await store.instances.get(guidOf(refused))).toEqual(refused);
  });

  describe('query plans', () => {
    const plan = (store: SqliteMetadataStore, query: InstanceQuery): string => {
      const { sql, params } = instanceQuerySql(query);
      return (store.database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail).join(' | ');
    };
    const after = { sequence: 5 };

    it.each<[string, InstanceQuery, string]>([
      ['an app, page 1', { appIds: ['acme/tax'], isSoftDeleted: false, limit: 100 }, 'instances_by_app'],
      ['an app, a later page', { appIds: ['acme/tax'], isSoftDeleted: false, after, limit: 100 }, 'instances_by_app'],
      ['an org', { org: 'acme', isSoftDeleted: false, after, limit: 100 }, 'instances_by_org'],
      ['a party', { partyIds: ['50001'], isSoftDeleted: false, after, limit: 100 }, 'instances_by_party'],
      ['an app and a task (few rows)', { appIds: ['acme/tax'], currentTask: 'Task_2', isSoftDeleted: false, after, limit: 100 }, 'instances_by_app_task'],
      [
        "an app's completed instances its org has not confirmed (few rows)",
        { appIds: ['acme/tax'], isComplete: true, excludeConfirmedBy: 'acme', isSoftDeleted: false, after, limit: 100 },
        'instances_by_app_unconfirmed',
      ],
      ['an app, page 1, newest first', { appIds: ['acme/tax'], isSoftDeleted: false, descending: true, limit: 100 }, 'instances_by_app'],
      ['a party, a later page, newest first', { partyIds: ['50001'], isSoftDeleted: false, after, descending: true, limit: 100 }, 'instances_by_party'],
      ['an app and a task, newest first', { appIds: ['acme/tax'], currentTask: 'Task_2', isSoftDeleted: false, descending: true, limit: 100 }, 'instances_by_app_task'],
      ['an app and a task, a later page, newest first', { appIds: ['acme/tax'], currentTask: 'Task_2', isSoftDeleted: false, after, descending: true, limit: 100 }, 'instances_by_app_task'],
      // As storage's query route asks (deleted instances left out): the flags must not lead SQLite to walk everything.
      [
        "an org's app and a party, as the route asks it, newest first",
        { org: 'acme', appIds: ['acme/tax'], partyIds: ['50002'], isHardDeleted: false, isSoftDeleted: false, descending: true, limit: 100 },
        'instances_by_party',
      ],
      ['a party, as the route asks it', { partyIds: ['50001'], isHardDeleted: false, isSoftDeleted: false, excludeHiddenFromOwner: true, descending: true, limit: 100 }, 'instances_by_party'],
      ["an org's app, as the route asks it", { org: 'acme', appIds: ['acme/tax'], isHardDeleted: false, isSoftDeleted: false, descending: true, limit: 100 }, 'instances_by_app'],
    ])('%s: reads an index in query order, no scan and no sort', async (_name, query, index) => {
      const store = await open();
      const detail = plan(store, query);
      expect(detail).toContain(`SEARCH instances USING INDEX ${index} (`);
      expect(detail).not.toMatch(/SCAN instances|TEMP B-TREE/);
    });

    it('the clean-up job reads the index of the marked instances, which holds nothing else', async () => {
      const store = await open();
      expect(plan(store, { isHardDeleted: true, lastChanged: { lt: at(0) }, limit: 100 })).toBe('SCAN instances USING INDEX instances_hard_deleted');
    });

    it('finds the few instances of a rare filter among many', async () => {
      const store = await open();
      const many = Array.from({ length: 3000 }, (_, index) =>
        buildInstance({ appId: 'acme/tax', lastChanged: at(index % 100), process: index % 1000 === 7 ? processInTask('Task_2') : processInTask('Task_1') }),
      );
      for (const instance of many) await store.instances.insert(instance);
      const found = await store.instances.query({ appIds: ['acme/tax'], currentTask: 'Task_2', limit: 100 });
      expect(found.map(guidOf).sort()).toEqual(many.filter((instance) => instance.process.currentTask?.elementId === 'Task_2').map(guidOf).sort());
      expect(found).toHaveLength(3);
    });
  });
});

describe('SqliteMetadataStore, upgrading a database of schema 2 (before the write sequence)', () => {
  it('numbers the existing rows in their old order, gives events their app, and writes after them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sqlite-upgrade-'));
    const early = buildInstance({ appId: 'acme/tax', lastChanged: at(1) });
    const late = buildInstance({ appId: 'other/gamma', lastChanged: at(5) });
    const middle = buildInstance({ appId: 'acme/tax', lastChanged: at(3) });
    const created = buildEvent(early, 'Created', at(1));
    const saved = buildEvent(early, 'Saved', at(2));
    const orphan = buildEvent(buildInstance(), 'Deleted', at(0));
    const old = openSqlite(join(dataDir, 'metadata.sqlite'), { migrations: METADATA_MIGRATIONS.slice(0, 2), owner: 'test' });
    const insert = old.db.prepare(
      `INSERT INTO instances (guid, app_id, org, party_id, last_changed, created, is_complete, is_archived, is_soft_deleted, is_hard_deleted, org_confirmed, version, doc)
       VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)`,
    );
    for (const instance of [late, early, middle]) {
      insert.run(guidOf(instance), instance.appId, instance.org, instance.instanceOwner.partyId, instance.lastChanged, instance.created, instance.version, JSON.stringify(instance));
    }
    const insertEvent = old.db.prepare('INSERT INTO events (id, instance_id, created, event_type, doc) VALUES (?, ?, ?, ?, ?)');
    for (const event of [saved, orphan, created]) insertEvent.run(event.id, event.instanceId, event.created, event.eventType, JSON.stringify(event));
    old.close();

    const store = new SqliteMetadataStore(dataDir);
    await store.init();
    try {
      expect(store.database.pragma('user_version', { simple: true })).toBe(METADATA_MIGRATIONS.length);
      expect((await store.instances.query({ limit: 10 })).map(guidOf)).toEqual([early, middle, late].map(guidOf));
      const feed = await store.events.feed({ after: 0, limit: 10 });
      expect(feed.map((event) => [event.id, event.appId])).toEqual([
        [orphan.id, ''],
        [created.id, 'acme/tax'],
        [saved.id, 'acme/tax'],
      ]);
      const newest = buildInstance({ lastChanged: at(0) });
      await store.instances.insert(newest);
      const rows = await store.instances.querySequenced({ limit: 10 });
      expect(rows.map((row) => guidOf(row.instance))).toEqual([early, middle, late, newest].map(guidOf));
      expect(Math.min(...rows.map((row) => row.sequence))).toBeGreaterThan(Math.max(...feed.map((event) => event.sequence)));
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('SqliteMetadataStore, first start on a data directory of the earlier journalled store', () => {
  it('imports the journals in one go, then sets the folder aside', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sqlite-import-'));
    const journals = join(dataDir, 'metadata');
    await mkdir(journals);
    const put = (id: string, doc: object) => `${JSON.stringify({ op: 'put', id, doc })}\n`;
    const del = (id: string) => `${JSON.stringify({ op: 'del', id })}\n`;
    const kept = buildInstance({ lastChanged: at(1) });
    const changed: Instance = { ...kept, version: 2, lastChanged: at(2), completeConfirmations: [{ stakeholderId: 'acme', confirmedOn: at(2) }] };
    const removed = buildInstance();
    const event = buildEvent(kept, 'Created', at(1));
    const application = buildApplication('acme/tax-return');
    const upload = buildPendingUpload(at(1));
    await writeFile(
      join(journals, 'instances.jsonl'),
      put(guidOf(kept), kept) + put(guidOf(removed), removed) + put(guidOf(kept), changed) + del(guidOf(removed)) + '{"op":"put","id":"torn","doc":{"id":"1/',
    );
    await writeFile(join(journals, 'instanceEvents.jsonl'), put(event.id, event));
    await writeFile(join(journals, 'applications.jsonl'), put(application.id, application));
    await writeFile(join(journals, 'pendingUploads.jsonl'), put(upload.dataElementId, upload));

    const store = new SqliteMetadataStore(dataDir, { legacyJournalDirectory: journals });
    const logged: string[] = [];
    await store.init((_level, message) => logged.push(message));
    try {
      expect(await store.instances.query({ limit: 10 })).toEqual([changed]);
      expect(await store.instances.query({ appIds: [kept.appId], excludeConfirmedBy: 'acme', limit: 10 })).toEqual([]);
      expect(await store.events.list(kept.id, {})).toEqual([event]);
      expect(await store.events.feed({ after: 0, limit: 10 })).toEqual([{ ...event, sequence: expect.any(Number), appId: kept.appId }]);
      expect(await store.applications.get(application.id)).toEqual(application);
      expect(await store.pendingUploads.listStartedBefore(at(9), 10)).toEqual([upload]);
      expect(logged).toEqual(['imported the journals of the earlier embedded store']);
      const names = await readdir(dataDir);
      expect(names).not.toContain('metadata');
      expect(names.filter((name) => name.startsWith('metadata.imported-'))).toHaveLength(1);
    } finally {
      await store.close();
    }
    // The second start finds nothing to import and keeps what the first imported.
    const again = new SqliteMetadataStore(dataDir, { legacyJournalDirectory: journals });
    await again.init();
    expect(await again.instances.query({ limit: 10 })).toEqual([changed]);
    await again.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a damaged journal and imports nothing', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sqlite-import-'));
    const journals = join(dataDir, 'metadata');
    await mkdir(journals);
    await writeFile(join(journals, 'instances.jsonl'), `${JSON.stringify({ op: 'put', id: 'x', doc: buildInstance() })}\ngarbage\n`);
    const store = new SqliteMetadataStore(dataDir, { legacyJournalDirectory: journals });
    await expect(store.init()).rejects.toThrow(/instances\.jsonl:2 is not a journal line/);
    expect(await readdir(dataDir)).toContain('metadata');
    await rm(dataDir, { recursive: true, force: true });
  });
});
