/**
 * Backups of the embedded storage, as an operator makes them: the maintenance command run beside a live storage
 * process (a real child) that keeps taking writes, then a storage started on the backup folder, which must serve
 * every instance it holds whole: each data element's content byte for byte (sha256), small forms kept in the
 * database and files of 300 KB and 12 MB alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StorageClient } from '@forms/client';
import { Scopes, type DataElement, type Instance } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { BACKUP_REPORT_FILE } from '../../src/adapters/backup/embedded-backup';
import { OWNER_PARTY, SAMPLE_APP } from '../support/storage-harness';
import { StorageProcess } from '../support/storage-process';

jest.setTimeout(180_000);
const ROOT = resolve(__dirname, '../../../..');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The maintenance command as a child process, without blocking this one (its writer goes on meanwhile). */
function maintenance(args: string[], dataDir: string, env: Record<string, string> = {}): Promise<Outcome> {
  return startMaintenance(args, dataDir, env).outcome;
}

function startMaintenance(args: string[], dataDir: string, env: Record<string, string> = {}): { child: ChildProcess; outcome: Promise<Outcome> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/storage/src/maintenance.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, outcome: new Promise((done) => child.once('exit', (status, signal) => done({ status, signal, stdout, stderr }))) };
}

/** The counts of the command's summary line. */
function summary(stdout: string) {
  const match = /: (\d+) instances, (\d+) data elements \((\d+) in the database; files: (\d+) copied \([\d.]+ MB\), (\d+) already there, (\d+) removed\)/.exec(stdout);
  if (!match) throw new Error(`no summary in: ${stdout}`);
  const [instances, dataElements, inDatabase, copied, alreadyThere, removed] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  return { instances, dataElements, inDatabase, copied, alreadyThere, removed };
}

describe('backing up the embedded storage while it serves', () => {
  let issuer: TestIssuer;
  let dataDir: string;
  let backupDir: string;
  const running: StorageProcess[] = [];
  /** What each acknowledged write stored: the instance and the sha256 of each element's content. */
  const stored = new Map<string, { instance: Instance; hashes: Map<string, string> }>();
  let filesInFirstBackup = 0;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    dataDir = mkdtempSync(join(tmpdir(), 'storage-backup-data-'));
    backupDir = mkdtempSync(join(tmpdir(), 'storage-backup-'));
  });
  afterAll(async () => {
    for (const storage of running) await storage.kill();
    await issuer?.stop();
    for (const dir of [dataDir, backupDir]) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (dir: string) => {
    const storage = await StorageProcess.start({ DATA_DIR: dir, JWKS_URL: issuer.jwksUrl, TOKEN_ISSUER: issuer.issuer, REAPER_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' });
    running.push(storage);
    return storage;
  };
  const nav = () => ({ authorization: `Bearer ${issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] })}` });
  const ownerToken = () => issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [Scopes.instancesRead, Scopes.instancesWrite] });
  const owner = () => ({ authorization: `Bearer ${ownerToken()}` });

  /** An instance with its form (small: kept in the database) and a file of `fileBytes` (a blob file of its own). */
  async function writeInstance(api: string, fileBytes: number): Promise<Instance> {
    const client = new StorageClient({ baseUrl: api, timeoutMs: 30_000, accessToken: async () => issuer.appToken({ app: 'nav/sample-app' }) });
    const form = Buffer.from(JSON.stringify({ applicant: { name: 'Kari', nonce: randomBytes(8).toString('hex') } }));
    const created = await client.createInstance(ownerToken(), 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY } }, [
      { dataType: 'model', contentType: 'application/json', body: form },
    ]);
    const file = randomBytes(fileBytes);
    const uploaded = await fetch(`${api}/instances/${created.id}/data?dataType=bigfile`, {
      method: 'POST',
      headers: { ...owner(), 'content-type': 'application/octet-stream' },
      body: file,
    });
    if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${await uploaded.text()}`);
    const element = (await uploaded.json()) as DataElement;
    const formElement = created.data[0] as DataElement;
    stored.set(created.id, { instance: created, hashes: new Map([[formElement.id, sha256(form)], [element.id, sha256(file)]]) });
    return { ...created, data: [formElement, element] };
  }

  async function download(api: string, instanceId: string, elementId: string): Promise<Buffer> {
    const response = await fetch(`${api}/instances/${instanceId}/data/${elementId}`, { headers: nav() });
    if (response.status !== 200) throw new Error(`download ${elementId}: ${response.status} ${await response.text()}`);
    return Buffer.from(await response.arrayBuffer());
  }

  /** Every instance of the party that `api` serves, through the query's pages. */
  async function allInstances(api: string): Promise<Instance[]> {
    const found: Instance[] = [];
    let url: string | null = `${api}/instances?instanceOwner.partyId=${OWNER_PARTY}&size=100`;
    while (url) {
      const page = (await (await fetch(url, { headers: owner() })).json()) as { instances: Instance[]; next: string | null };
      found.push(...page.instances);
      url = page.next;
    }
    return found;
  }

  it('writes a backup that a storage started on it serves whole, while writes go on', async () => {
    const live = await start(dataDir);
    expect((await fetch(`${live.baseUrl}/applications/nav/sample-app`, { method: 'POST', headers: { ...nav(), 'content-type': 'application/json' }, body: JSON.stringify(SAMPLE_APP) })).status).toBe(201);
    for (let index = 0; index < 20; index += 1) await writeInstance(live.baseUrl, 300_000);
    await writeInstance(live.baseUrl, 12 * 1024 * 1024);
    const before = new Set(stored.keys());

    // Writes go on while the backup runs: what the snapshot caught must come back whole, the rest not at all.
    let writing = true;
    const writer = (async () => {
      while (writing) await writeInstance(live.baseUrl, 100_000);
    })();
    const result = await maintenance(['backup', backupDir], dataDir);
    writing = false;
    await writer;
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const counts = summary(result.stdout);
    expect(counts.instances).toBeGreaterThanOrEqual(before.size);
    expect(counts.inDatabase).toBe(counts.instances);
    expect(counts.copied + counts.alreadyThere).toBe(counts.dataElements - counts.inDatabase);
    expect(JSON.parse(readFileSync(join(backupDir, BACKUP_REPORT_FILE), 'utf8'))).toMatchObject({ instances: counts.instances, missing: [], damaged: [] });
    await live.stop();

    const restored = await start(backupDir);
    const instances = await allInstances(restored.baseUrl);
    expect(instances).toHaveLength(counts.instances);
    const ids = new Set(instances.map((instance) => instance.id));
    for (const id of before) expect(ids.has(id)).toBe(true);
    for (const instance of instances) {
      const expected = stored.get(instance.id)?.hashes ?? new Map<string, string>();
      // An instance the writer made just before the snapshot may lack the file it uploaded just after.
      if (before.has(instance.id)) expect(instance.data).toHaveLength(expected.size);
      for (const element of instance.data) expect(sha256(await download(restored.baseUrl, instance.id, element.id))).toBe(expected.get(element.id));
    }
    filesInFirstBackup = counts.dataElements - counts.inDatabase;
    await restored.stop();
    const check = await maintenance(['check', '--full'], backupDir);
    expect(check.stdout).toMatch(/metadata\.sqlite: ok/);
    expect(check.status).toBe(0);
  });

  it('copies only what is new into the same folder again, and removes what was deleted since', async () => {
    const live = await start(dataDir);
    const [first] = stored.values();
    const file = first?.instance && [...(first.hashes.keys())][1];
    const deleted = await fetch(`${live.baseUrl}/instances/${first?.instance.id}/data/${file}`, { method: 'DELETE', headers: owner() });
    expect(deleted.status).toBe(200);
    const added = await writeInstance(live.baseUrl, 200_000);
    const filesNow = (await allInstances(live.baseUrl)).flatMap((instance) => instance.data).filter((element) => element.dataType === 'bigfile').length;
    await live.stop();

    const result = await maintenance(['backup', backupDir], dataDir);
    expect(result.status).toBe(0);
    const counts = summary(result.stdout);
    expect(counts).toMatchObject({ alreadyThere: filesInFirstBackup - 1, removed: 1, copied: filesNow - (filesInFirstBackup - 1) });
    const blobs = join(backupDir, 'blobs');
    expect(existsSync(join(blobs, (added.data[1] as DataElement).blobStoragePath))).toBe(true);
    expect(existsSync(join(blobs, `nav/sample-app/${first?.instance.id.split('/')[1]}/data/${file}`))).toBe(false);
  });

  it('leaves the previous backup whole when the backup is killed half-way, and the next run completes it', async () => {
    const previous = JSON.parse(readFileSync(join(backupDir, BACKUP_REPORT_FILE), 'utf8')) as { instances: number };
    const live = await start(dataDir);
    await writeInstance(live.baseUrl, 40 * 1024 * 1024);
    for (let index = 0; index < 10; index += 1) await writeInstance(live.baseUrl, 300_000);

    // SIGKILL once the new snapshot is written and its files are being copied.
    const backup = startMaintenance(['backup', backupDir], dataDir);
    while (!existsSync(join(backupDir, '.metadata.next.sqlite'))) await new Promise((wait) => setTimeout(wait, 2));
    backup.child.kill('SIGKILL');
    expect((await backup.outcome).signal).toBe('SIGKILL');
    await live.stop();

    const restored = await start(backupDir);
    const instances = await allInstances(restored.baseUrl);
    expect(instances).toHaveLength(previous.instances);
    for (const instance of instances) {
      for (const element of instance.data) expect(sha256(await download(restored.baseUrl, instance.id, element.id))).toBe(stored.get(instance.id)?.hashes.get(element.id));
    }
    await restored.stop();

    const again = await maintenance(['backup', backupDir], dataDir);
    expect(again.status).toBe(0);
    expect(summary(again.stdout).instances).toBe(stored.size);
    expect(existsSync(join(backupDir, '.metadata.next.sqlite'))).toBe(false);
  });

  it('names content that is missing or damaged in DATA_DIR (exit 1), and refuses a folder inside DATA_DIR (exit 2)', async () => {
    const [lost, damaged] = [...stored.values()].slice(1, 3).map(({ instance, hashes }) => ({ instance, id: [...hashes.keys()][1] as string }));
    const path = ({ instance, id }: { instance: Instance; id: string }) => join(dataDir, 'blobs', `nav/sample-app/${instance.id.split('/')[1]}/data/${id}`);
    rmSync(path(lost!));
    // Same size, other bytes: only the hash can tell.
    const fd = openSync(path(damaged!), 'r+');
    writeSync(fd, Buffer.from('not what was uploaded'), 0, 21, 1000);
    closeSync(fd);

    const fresh = mkdtempSync(join(tmpdir(), 'storage-backup-fresh-'));
    try {
      const result = await maintenance(['backup', fresh], dataDir);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`missing: data element ${lost!.id} of instance ${lost!.instance.id}: not in DATA_DIR/blobs`);
      expect(result.stderr).toContain(`damaged: data element ${damaged!.id} of instance ${damaged!.instance.id}: sha256 differs from the recorded contentHash`);
      expect(result.stdout).toMatch(/, 1 missing, 1 damaged; \d+ ms/);
      // The damaged copy is left out, so the next backup checks that content again rather than trusting the file.
      expect(existsSync(join(fresh, 'blobs', `nav/sample-app/${damaged!.instance.id.split('/')[1]}/data/${damaged!.id}`))).toBe(false);
      const again = await maintenance(['backup', fresh], dataDir);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain(`damaged: data element ${damaged!.id}`);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }

    const inS3 = await maintenance(['backup', join(tmpdir(), 'never-written')], dataDir, { S3_BUCKET: 'forms', SINGLE_NODE: 'true' });
    expect(inS3.status).toBe(2);
    expect(inS3.stderr).toMatch(/^S3_ENDPOINT or S3_BUCKET is set: the blobs are in S3, not in DATA_DIR/);
    expect(existsSync(join(tmpdir(), 'never-written'))).toBe(false);

    const inside = await maintenance(['backup', join(dataDir, 'backup')], dataDir);
    expect(inside.status).toBe(2);
    expect(inside.stderr).toMatch(/must be separate \(neither inside the other\)/);
    expect(existsSync(join(dataDir, 'backup'))).toBe(false);
  });
});
