/**
 * Faults an operator meets: a full disk, a second process on the same DATA_DIR, an unclean shutdown, a damaged
 * database file. Each is produced for real (SQLite's own size limit, real child processes, SIGKILL, bytes
 * overwritten in the file), never simulated in our code.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteMetadataStore } from '../../src/adapters/metadata/sqlite/sqlite-metadata-store';
import { buildInstance, buildEvent, at } from '../contract/test-data';
import { API, OWNER_PARTY, registerApp, startStorage, viaApp, type StorageHarness } from '../support/storage-harness';

jest.setTimeout(60_000);
const ROOT = resolve(__dirname, '../../../..');

function runTs(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('a running storage service on the embedded default', () => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage('embedded');
    await registerApp(h);
  });
  afterAll(() => h.close());

  const create = () =>
    h.app.inject({ method: 'POST', url: `${API}/instances?appId=nav/sample-app`, headers: viaApp(h, h.auth.owner), payload: { instanceOwner: { partyId: OWNER_PARTY } } });

  it('answers a write on a full disk with 507 problem+json, reports not ready, and recovers by itself once there is room', async () => {
    const db = (h.app.storage.context.store as SqliteMetadataStore).database;
    // SQLite's own limit on the file size: the write fails inside the engine exactly as on a full disk (SQLITE_FULL).
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 1}`);
    let response = await create();
    for (let attempt = 0; attempt < 50 && response.statusCode === 201; attempt += 1) response = await create();
    expect(response.statusCode).toBe(507);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 507, code: 'METADATA_STORE_FULL' });
    // Reads still work.
    expect((await h.app.inject({ method: 'GET', url: `${API}/instances?instanceOwner.partyId=${OWNER_PARTY}`, headers: h.auth.owner })).statusCode).toBe(200);
    const notReady = await h.app.inject({ url: '/ready' });
    expect(notReady.statusCode).toBe(503);

    db.pragma('max_page_count = 1073741823');
    expect((await h.app.inject({ url: '/ready' })).statusCode).toBe(200);
    expect((await create()).statusCode).toBe(201);
  });

  it('refuses a second storage process on the same DATA_DIR at start, with one clear line', () => {
    const result = runTs(['services/storage/src/server.ts'], { DATA_DIR: h.config.DATA_DIR, PORT: '0', LOG_LEVEL: 'warn' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `storage: ${join(h.config.DATA_DIR, 'metadata.sqlite')} is in use by another storage process (one process per DATA_DIR): stop it or use another DATA_DIR\n`,
    );
  });

  it('checks the database while the service runs (maintenance command)', () => {
    const result = runTs(['services/storage/src/maintenance.ts', 'check', '--full'], { DATA_DIR: h.config.DATA_DIR });
    expect(result.stdout).toMatch(/metadata\.sqlite: ok \(\d+ ms\)/);
    expect(result.status).toBe(0);
  });
});

describe('the database after a crash, and a damaged one', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'storage-faults-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs an integrity check in the background after an unclean shutdown, without delaying the start', async () => {
    // A child writes, then is killed with SIGKILL: the write-ahead log is left behind, as after a power cut.
    const script = `
      const { SqliteMetadataStore } = require('./services/storage/src/adapters/metadata/sqlite/sqlite-metadata-store.ts');
      const store = new SqliteMetadataStore(process.env.DATA_DIR);
      store.init().then(async () => {
        const instance = ${JSON.stringify(buildInstance())};
        await store.instances.insert(instance, { events: [${JSON.stringify(buildEvent(buildInstance(), 'Created', at(0)))}] });
        process.stdout.write('written');
        setInterval(() => {}, 1000);
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((written) => child.stdout?.on('data', () => written()));
    child.kill('SIGKILL');
    await new Promise((exited) => child.once('exit', exited));
    expect(statSync(join(dataDir, 'metadata.sqlite-wal')).size).toBeGreaterThan(0);

    const store = new SqliteMetadataStore(dataDir);
    const logged: string[] = [];
    await store.init((_level, message) => logged.push(message));
    try {
      expect(store.integrity.state).toBe('running');
      expect(await store.instances.query({ limit: 10 })).toHaveLength(1);
      for (let wait = 0; wait < 100 && store.integrity.state === 'running'; wait += 1) await new Promise((tick) => setTimeout(tick, 50));
      expect(store.integrity).toMatchObject({ state: 'ok' });
      expect(logged).toContain('integrity check after an unclean shutdown');
    } finally {
      await store.close();
    }
    // A clean close leaves no log behind, so the next start checks nothing.
    const again = new SqliteMetadataStore(dataDir);
    await again.init();
    expect(again.integrity.state).toBe('not-needed');
    await again.close();
  });

  it('reports damage inside the file through the maintenance command', async () => {
    const store = new SqliteMetadataStore(dataDir);
    await store.init();
    for (let index = 0; index < 400; index += 1) await store.instances.insert(buildInstance());
    await store.close();
    // Overwrite the middle of the file (index and table pages) with garbage, as a failing disk would.
    const path = join(dataDir, 'metadata.sqlite');
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(16 * 1024, 0xa5), 0, 16 * 1024, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);

    const result = runTs(['services/storage/src/maintenance.ts', 'check'], { DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/metadata\.sqlite: (damaged|cannot be checked)/);
  });
});
