import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { Scopes } from '@forms/contracts';
import { runCli } from '../src/cli';
import { ADMIN_KEY, basic, signAssertion, clientAssertionForm, startAuth } from './support/auth-harness';

/** Runs the CLI in-process, collecting what it prints. */
async function cli(args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, env, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n'), json: () => JSON.parse(out.join('\n')) };
}

describe('CLI', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'auth-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('registers, lists, shows and removes clients in the embedded store the service then uses', async () => {
    const added = await cli(['clients', 'add', '--kind', 'org', '--org', 'nav', '--org-number', '889640782', '--scope', Scopes.serviceOwnerRead, '--id', 'nav-cli', '--name', 'From the CLI'], env);
    expect(added.code).toBe(0);
    const { client, clientSecret } = added.json();
    expect(client).toMatchObject({ clientId: 'nav-cli', name: 'From the CLI', authMethod: 'client_secret' });
    expect(added.err).toMatch(/shown only this once/);

    const keyFile = join(dataDir, 'client-key.pem');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(keyFile, publicKey.export({ format: 'pem', type: 'spki' }));
    const keyClient = await cli(['clients', 'add', '--kind', 'system', '--party-id', '50001', '--scope', `${Scopes.instancesRead} ${Scopes.instancesWrite}`, '--id', 'ledger', '--public-key', keyFile], env);
    expect(keyClient.code).toBe(0);
    expect(keyClient.json()).toEqual({ client: expect.objectContaining({ clientId: 'ledger', authMethod: 'private_key_jwt' }) });

    expect((await cli(['clients', 'list'], env)).json().clients.map((c: { clientId: string }) => c.clientId)).toEqual(['ledger', 'nav-cli']);
    expect((await cli(['clients', 'get', 'ledger'], env)).json().subject).toEqual({ kind: 'system', systemId: 'ledger', partyId: '50001' });

    // The service started on the same DATA_DIR honours both.
    const service = await startAuth({ dataDir });
    try {
      expect((await service.token({ grant_type: 'client_credentials' }, basic('nav-cli', clientSecret))).statusCode).toBe(200);
      const assertion = await signAssertion({ clientId: 'ledger', privateKey, alg: 'ES256' });
      expect((await service.token(clientAssertionForm(assertion))).statusCode).toBe(200);
    } finally {
      await service.close();
    }

    expect((await cli(['clients', 'remove', 'nav-cli'], env)).code).toBe(0);
    const missing = await cli(['clients', 'get', 'nav-cli'], env);
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('CLIENT_NOT_FOUND') });
  });

  it('refuses invalid registrations with the same rules as the admin API', async () => {
    const result = await cli(['clients', 'add', '--kind', 'system', '--party-id', '50001', '--scope', Scopes.serviceOwnerWrite], env);
    expect(result).toMatchObject({ code: 1, err: expect.stringContaining('INVALID_SCOPES') });
    expect((await cli(['clients', 'add', '--kind', 'robot', '--scope', 'x'], env)).code).toBe(1);
  });

  it('lists and rotates the keyring in DATA_DIR', async () => {
    const listed = (await cli(['keys', 'list'], env)).json();
    expect(listed).toEqual({ rotatable: true, keys: [expect.objectContaining({ status: 'active' })] });
    const rotated = (await cli(['keys', 'rotate'], env)).json();
    expect(rotated.retiredKid).toBe(listed.keys[0].kid);
    const service = await startAuth({ dataDir });
    try {
      const token = (await service.app.inject({ method: 'POST', url: '/authentication/api/v1/testtoken', payload: { org: 'nav' } })).json().access_token as string;
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.kid);
    } finally {
      await service.close();
    }
  });

  it('will not write beside a running service, and works through its admin API with --url', async () => {
    const service = await startAuth({ dataDir, listen: true });
    try {
      const direct = await cli(['clients', 'list'], env);
      expect(direct).toMatchObject({ code: 1, err: expect.stringContaining('in use by process') });

      const remote = { ADMIN_API_KEY: ADMIN_KEY };
      const added = await cli(['clients', 'add', '--url', service.url, '--kind', 'org', '--org', 'skd', '--org-number', '974761076', '--scope', Scopes.serviceOwnerRead, '--id', 'skd-remote'], remote);
      expect(added.code).toBe(0);
      const secret = added.json().clientSecret as string;
      expect((await service.token({ grant_type: 'client_credentials' }, basic('skd-remote', secret))).statusCode).toBe(200);
      expect((await cli(['clients', 'list', '--url', service.url], remote)).json().clients.map((c: { clientId: string }) => c.clientId)).toEqual(['skd-remote']);
      expect((await cli(['keys', 'rotate', '--url', service.url], remote)).code).toBe(0);
      expect((await cli(['clients', 'remove', 'skd-remote', '--url', service.url], remote)).code).toBe(0);

      const wrongKey = await cli(['clients', 'list', '--url', service.url], { ADMIN_API_KEY: 'not-the-admin-key' });
      expect(wrongKey).toMatchObject({ code: 1, err: expect.stringContaining('401') });
      expect((await cli(['clients', 'list', '--url', service.url], {})).err).toMatch(/ADMIN_API_KEY/);
    } finally {
      await service.close();
    }
  });

  it('prints usage for unknown commands and --help', async () => {
    expect(await cli(['frobnicate'], env)).toMatchObject({ code: 2, err: expect.stringContaining('Usage') });
    expect(await cli(['--help'], env)).toMatchObject({ code: 0, out: expect.stringContaining('clients add') });
    expect(await cli(['clients', 'add', '--bogus'], env)).toMatchObject({ code: 2 });
  });

  it('refuses stray arguments and options that do not apply with the usage and exit 2, and registers nothing', async () => {
    // The usage line pasted as it is, brackets and all.
    const pasted = await cli(
      ['clients', 'add', '--kind', 'org', '--org', 'nav', '--org-number', '889640782', '--scope', Scopes.serviceOwnerRead, '[--id', 'nav-archive]', '[--name', '"…"]', '[--public-key', 'client.pub]'],
      env,
    );
    expect(pasted).toMatchObject({ code: 2, out: '' });
    expect(pasted.err).toMatch(/^unexpected argument "\[--id" for "clients add"\n\nUsage: /);

    const misuses: Array<[string[], RegExp]> = [
      [['clients', 'list', 'everything'], /unexpected argument "everything"/],
      [['clients', 'get'], /"clients get" needs <clientId>/],
      [['clients', 'remove', 'a', 'b'], /unexpected argument "b"/],
      [['clients', 'list', '--kind', 'org'], /--kind does not apply to "clients list"/],
      [['keys', 'rotate', '--id', 'x'], /--id does not apply to "keys rotate"/],
      [['keys'], /unknown command "keys"/],
      [['clients', 'add', '--kind', 'org', '--org', 'nav', '--org-number', '889640782', '--scope', 'x', '--colour', 'red'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of misuses) {
      const result = await cli(args, env);
      expect({ args, code: result.code, err: result.err }).toEqual({ args, code: 2, err: expect.stringMatching(message) });
      expect(result.err).toContain('Usage: ');
    }
    expect((await cli(['clients', 'list'], env)).json()).toEqual({ clients: [] });
  });
});
