/**
 * `login` against the real token service, then `instances list` with the stored token against a storage
 * service that trusts that token service (both on real ports).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageClient } from '@forms/client';
import { Scopes, type Instance, type InstanceQueryResponse } from '@forms/contracts';
import { ConfigStore } from '../src';
import { runCli } from './support/cli-harness';
import { AUDIENCE, ISSUER, startAuth, type AuthHarness } from '../../../services/auth/test/support/auth-harness';
import { SAMPLE_APP, startStorage, type StorageHarness } from '../../../services/storage/test/support/storage-harness';

const { serviceOwnerRead, serviceOwnerWrite, instancesRead } = Scopes;
const APP = 'nav/cli-app';

let auth: AuthHarness;
let storage: StorageHarness;
let storageUrl: string;
let root: string;
let configDir: string;
let env: Record<string, string>;
let secret: string;
let keyFile: string;

beforeAll(async () => {
  auth = await startAuth({ listen: true });
  storage = await startStorage('embedded', { JWKS_URL: `${auth.url}/.well-known/jwks.json`, TOKEN_ISSUER: ISSUER, TOKEN_AUDIENCE: AUDIENCE });
  storageUrl = `${await storage.app.listen({ host: '127.0.0.1', port: 0 })}/storage/api/v1`;
  root = mkdtempSync(join(tmpdir(), 'forms-cli-login-'));
  configDir = join(root, 'config');
  env = { FORMS_CONFIG_DIR: configDir };
  secret = (await auth.registerClient({ clientId: 'nav-archive', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] }))
    .clientSecret as string;
  const ledger = await auth.registerKeyClient({ clientId: 'ledger', kind: 'system', partyId: '50003', scopes: [instancesRead] }, 'ES256');
  keyFile = join(root, 'ledger.pem');
  writeFileSync(keyFile, ledger.privateKey.export({ format: 'pem', type: 'pkcs8' }));
});
afterAll(async () => {
  await storage.close();
  await auth.close();
  rmSync(root, { recursive: true, force: true });
});

const login = (...extra: string[]) => runCli(['login', '--auth-url', auth.url, '--client-id', 'nav-archive', ...extra], { env });
const storedConfig = () => new ConfigStore(configDir).read();

describe('login', () => {
  test('client_secret: the token and its expiry are stored in a 0600 file, never the secret', async () => {
    const before = Date.now();
    const result = await login('--client-secret', secret, '--storage-url', storageUrl, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.json<{ clientId: string; expiresAt: string; scope: string; configFile: string }>();
    expect(out).toMatchObject({ clientId: 'nav-archive', configFile: join(configDir, 'config.json') });
    expect(out.scope.split(' ').sort()).toEqual([serviceOwnerRead, serviceOwnerWrite].sort());
    expect(Date.parse(out.expiresAt)).toBeGreaterThanOrEqual(before + 1799_000);
    expect(JSON.stringify(out)).not.toContain('eyJ'); // the token is not printed

    expect(statSync(join(configDir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    const text = await readFile(join(configDir, 'config.json'), 'utf8');
    expect(text).not.toContain(secret);
    const config = await storedConfig();
    expect(config).toMatchObject({ authUrl: auth.url, clientId: 'nav-archive', storageUrl, expiresAt: out.expiresAt });
    // The token's claims; that storage accepts it (signature, issuer, audience) is shown by `instances list` below.
    const payload = JSON.parse(Buffer.from((config.accessToken as string).split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ 'urn:altinn:org': 'nav', iss: ISSUER, aud: AUDIENCE });
    expect(Math.abs((payload.exp as number) - Date.parse(out.expiresAt) / 1000)).toBeLessThanOrEqual(2);
  });

  test('the secret from FORMS_CLIENT_SECRET, sent as client_secret_post, with a narrower scope', async () => {
    const result = await runCli(['login', '--client-id', 'nav-archive', '--secret-method', 'post', '--scope', serviceOwnerRead], {
      env: { ...env, FORMS_CLIENT_SECRET: secret },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Logged in as nav-archive; token valid until \d{4}-/);
    // The auth URL and storage URL of the earlier login are remembered.
    expect(await storedConfig()).toMatchObject({ authUrl: auth.url, storageUrl, scope: serviceOwnerRead });
  });

  test('private_key_jwt with a PEM file', async () => {
    const result = await runCli(['login', '--auth-url', auth.url, '--client-id', 'ledger', '--private-key', keyFile, '--audience', ISSUER, '--json'], {
      env: { FORMS_CONFIG_DIR: join(root, 'ledger-config') },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ clientId: 'ledger', scope: instancesRead });
  });

  test('a refused login exits 2 with the OAuth error and keeps the stored token', async () => {
    const before = await storedConfig();
    const wrong = await login('--client-secret', 'wrong');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^forms-cli: invalid_client: /);
    const asJson = await login('--client-secret', 'wrong', '--json');
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { kind: 'unauthenticated', code: 'invalid_client' } });
    expect(asJson.stdout).toBe('');
    expect(await storedConfig()).toEqual(before);
  });

  test('usage mistakes exit 1', async () => {
    expect((await runCli(['login', '--client-secret', 'x'], { env })).code).toBe(1);
    expect((await login()).code).toBe(1);
    expect((await login('--client-secret', 'x', '--private-key', keyFile)).code).toBe(1);
    const missing = await login('--private-key', join(root, 'nope.pem'));
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/cannot read/);
    expect((await runCli(['no-such-command'], { env })).code).toBe(1);
    expect((await runCli(['instances', 'list', '--size', 'many'], { env })).code).toBe(1);
    expect((await runCli(['--help'], { env })).code).toBe(0);
  });
});

describe('instances list with the stored token', () => {
  const created: Instance[] = [];

  beforeAll(async () => {
    const loggedIn = await login('--client-secret', secret, '--storage-url', storageUrl);
    expect(loggedIn.code).toBe(0);
    const token = (await storedConfig()).accessToken as string;
    const client = new StorageClient({ baseUrl: storageUrl });
    await client.registerApplication(token, APP, SAMPLE_APP);
    for (const partyId of ['50001', '50001', '50002', '50002', '50003']) created.push(await client.createInstance(token, APP, { instanceOwner: { partyId } }));
  });

  const list = (...args: string[]) => runCli(['instances', 'list', '--app', APP, ...args], { env });

  test('one page as storage returns it, with the next continuation token', async () => {
    const all = await list('--json');
    expect(all.code).toBe(0);
    expect(all.json<InstanceQueryResponse>().instances.map((i) => i.id).sort()).toEqual(created.map((i) => i.id).sort());

    const page = await list('--size', '2', '--json');
    const body = page.json<InstanceQueryResponse>();
    expect(body.count).toBe(2);
    expect(body.next).toMatch(/continuationToken=/);

    const text = await list('--size', '2');
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toMatch(new RegExp(`^\\d+/[0-9a-f-]{36}  ${APP}  -  \\d{4}-`));
    const token = /--continuation-token (\S+)/.exec(text.stderr)?.[1] as string;
    const second = (await list('--size', '2', '--continuation-token', token, '--json')).json<InstanceQueryResponse>();
    expect(second.count).toBe(2);
    const firstIds = body.instances.map((i) => i.id);
    expect(second.instances.filter((i) => firstIds.includes(i.id))).toEqual([]);
  });

  test('--all follows the continuation tokens; filters go to storage', async () => {
    const all = await list('--all', '--size', '2', '--json');
    expect(all.code).toBe(0);
    const body = all.json<{ count: number; instances: Instance[] }>();
    expect(body.count).toBe(5);
    expect(new Set(body.instances.map((i) => i.id)).size).toBe(5);

    const text = await list('--all', '--size', '2');
    expect(text.stdout.trim().split('\n')).toHaveLength(5);

    expect((await list('--party', '50002', '--json')).json<InstanceQueryResponse>().count).toBe(2);
    expect((await list('--complete', '--json')).json<InstanceQueryResponse>().count).toBe(0);
    expect((await list('--no-complete', '--json')).json<InstanceQueryResponse>().count).toBe(5);
    expect((await list('--last-changed', 'gt:2999-01-01T00:00:00Z', '--json')).json<InstanceQueryResponse>().count).toBe(0);
    expect((await list('--last-changed', 'gt:2000-01-01T00:00:00Z', '--last-changed', 'lt:2999-01-01T00:00:00Z', '--json')).json<InstanceQueryResponse>().count).toBe(5);
    expect((await list('--exclude-confirmed-by', 'nav', '--json')).json<InstanceQueryResponse>().count).toBe(5);
  });

  test('a filter storage refuses exits 2 with its problem code', async () => {
    const bad = await list('--last-changed', 'after:yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^forms-cli: [A-Z_]+: /);
    expect(bad.stdout).toBe('');
  });

  test('token prints the stored token; after logout, or with an expired token, commands say to log in', async () => {
    const printed = await runCli(['token'], { env });
    expect(printed.stdout.trim()).toBe((await storedConfig()).accessToken);

    const expired = await runCli(['instances', 'list', '--app', APP], { env, now: () => Date.now() + 3600_000 });
    expect(expired.code).toBe(2);
    expect(expired.stderr).toMatch(/^forms-cli: TOKEN_EXPIRED: .*forms-cli login/);

    expect((await runCli(['logout'], { env })).code).toBe(0);
    const loggedOut = await list();
    expect(loggedOut.code).toBe(1);
    expect(loggedOut.stderr).toMatch(/Not logged in/);
    expect((await storedConfig()).accessToken).toBeUndefined();
    expect(statSync(join(configDir, 'config.json')).mode & 0o777).toBe(0o600);
  });
});
