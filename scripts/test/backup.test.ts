/**
 * `npm run backup`, as an operator runs it beside the running platform: the token service and storage as real
 * processes on their DATA_DIRs under one root (as `npm run up` lays them out), the command run against that root,
 * then each service started on its folder of the backup. The restored token service must know the client
 * registered before (its secret still works) and sign with the same key; the restored storage must hold the
 * instance. Storage's backup itself (writes going on, files, crashes, damage) is tested in
 * services/storage/test/maintenance/backup.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from '@forms/test-support';
import { SAMPLE_APP } from '../../services/storage/test/support/storage-harness';
import { ROOT } from './support/readme';

jest.setTimeout(120_000);
const ADMIN_API_KEY = 'backup-test-admin-key';

function npmBackup(args: string[], dataRoot: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', 'backup', '--', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataRoot, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.once('exit', (status) => done({ status, stdout, stderr })));
}

const startAuth = (dataDir: string) =>
  ServiceProcess.start({
    name: 'token service',
    entry: 'services/auth/src/server.ts',
    ready: /token service at (http:\/\/[\d.]+:\d+)/,
    env: { DATA_DIR: dataDir, ADMIN_API_KEY, TEST_TOKENS_ENABLED: 'true', LOG_LEVEL: 'info' },
  });
const startStorage = (dataDir: string, auth: string) =>
  ServiceProcess.start({
    name: 'storage',
    entry: 'services/storage/src/server.ts',
    ready: /storage API at (http:\/\/[^ ,"]+)/,
    env: { DATA_DIR: dataDir, JWKS_URL: `${auth}/.well-known/jwks.json`, TOKEN_ISSUER: 'http://127.0.0.1:5100', LOG_LEVEL: 'info' },
  });

describe('npm run backup', () => {
  let root: string;
  let backup: string;
  const running: ServiceProcess[] = [];
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'platform-data-'));
    backup = mkdtempSync(join(tmpdir(), 'platform-backup-'));
  });
  afterAll(async () => {
    for (const service of running) await service.kill();
    for (const dir of [root, backup]) rmSync(dir, { recursive: true, force: true });
  });
  const started = (service: ServiceProcess) => (running.push(service), service);

  async function token(auth: string, claims: object): Promise<string> {
    const response = await fetch(`${auth}/authentication/api/v1/testtoken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
    return ((await response.json()) as { access_token: string }).access_token;
  }
  const clientToken = (auth: string, secret: string) =>
    fetch(`${auth}/authentication/api/v1/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`nav-archive:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
  const keyIds = async (auth: string) => ((await (await fetch(`${auth}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);

  it('backs up the running token service and storage, and each serves its backup as it was', async () => {
    const auth = started(await startAuth(join(root, 'auth')));
    const registered = await fetch(`${auth.baseUrl}/authentication/api/v1/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'nav-archive', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: ['altinn:serviceowner/instances.read'] }),
    });
    expect(registered.status).toBe(201);
    const { clientSecret } = (await registered.json()) as { clientSecret: string };
    const keysBefore = await keyIds(auth.baseUrl);

    const storage = started(await startStorage(join(root, 'storage'), auth.baseUrl));
    const nav = { authorization: `Bearer ${await token(auth.baseUrl, { org: 'nav' })}`, 'content-type': 'application/json' };
    expect((await fetch(`${storage.baseUrl}/applications/nav/sample-app`, { method: 'POST', headers: nav, body: JSON.stringify(SAMPLE_APP) })).status).toBe(201);
    const party = { authorization: `Bearer ${await token(auth.baseUrl, { userId: '1001', partyId: '50001' })}` };
    const created = await fetch(`${storage.baseUrl}/instances?appId=nav/sample-app`, {
      method: 'POST',
      headers: { ...party, platformaccesstoken: await token(auth.baseUrl, { org: 'nav', app: 'nav/sample-app' }), 'content-type': 'application/json' },
      body: JSON.stringify({ instanceOwner: { partyId: '50001' } }),
    });
    expect(created.status).toBe(201);
    const instance = (await created.json()) as { id: string };

    const result = await npmBackup([backup], root);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'token service: clients.sqlite, signing-keys.json',
      `events: nothing in ${join(root, 'events')}, skipped`,
      expect.stringMatching(new RegExp(`^storage: storage backup of ${join(root, 'storage')} in ${join(backup, 'storage')}: 1 instances, 0 data elements \\(0 in the database;`)),
      `backup of ${root} in ${backup}: done`,
      '',
    ]);
    expect(result.status).toBe(0);
    // The signing keys stay private in the backup too.
    expect(statSync(join(backup, 'auth', 'signing-keys.json')).mode & 0o077).toBe(0);
    await auth.stop();
    await storage.stop();

    const restoredAuth = started(await startAuth(join(backup, 'auth')));
    expect(await keyIds(restoredAuth.baseUrl)).toEqual(keysBefore);
    expect((await clientToken(restoredAuth.baseUrl, clientSecret)).status).toBe(200);
    expect((await clientToken(restoredAuth.baseUrl, 'not-the-secret')).status).toBe(401);
    const restoredStorage = started(await startStorage(join(backup, 'storage'), restoredAuth.baseUrl));
    // A token signed before the backup still verifies: the same key.
    const read = await fetch(`${restoredStorage.baseUrl}/instances/${instance.id}`, { headers: party });
    expect(read.status).toBe(200);
  });

  it('says how to use it, and refuses a backup folder inside DATA_DIR or a platform on MongoDB and S3', async () => {
    const usage = await npmBackup([], root);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^usage: npm run backup -- <folder>/);
    const inside = await npmBackup([join(root, 'copy')], root);
    expect(inside.status).toBe(2);
    expect(inside.stderr).toBe(`npm run backup: the backup folder ${join(root, 'copy')} and DATA_DIR ${root} must be separate (neither inside the other)\n`);
    const shared = await npmBackup([backup], root, { MONGODB_URL: 'mongodb://127.0.0.1:9/forms', S3_BUCKET: 'forms' });
    expect(shared.status).toBe(2);
    expect(shared.stderr).toMatch(/^npm run backup: MONGODB_URL, S3_BUCKET set: the services keep their data there, not in DATA_DIR/);
  });
});
