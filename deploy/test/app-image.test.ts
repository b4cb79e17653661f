/**
 * What an app image runs, built by scripts/build.mjs into a temp folder: the bundled app service (dist/server.js,
 * as the image's CMD starts it), on an app folder that holds the compiled rules.js and no rules.ts. It gets its
 * org token itself, by client credentials at a stand-in of the token endpoint.
 *
 * The image installs production dependencies hoisted into one node_modules; here NODE_PATH lists the
 * workspace packages' node_modules instead, so the bundle finds the same third-party packages.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleViolation, isRuleViolation, type RuleContext } from '@forms/app-definition';
import { Scopes } from '@forms/contracts';
import { checkRulesModule } from '../../packages/app-definition/src/rules';
import { startStorage, type StorageHarness } from '../../services/storage/test/support/storage-harness';
import { ROOT } from './support/deploy-files';

const ORG_CLIENT = { clientId: 'skd-apps', clientSecret: 'the-secret-of-skd' };
const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;

let out: string;
let storage: StorageHarness;
let storageUrl: string;
let tokenUrl: string;
const servers: Server[] = [];
const children: ChildProcess[] = [];

const NODE_PATH = [join(ROOT, 'services', 'app', 'node_modules'), ...readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'node_modules'))]
  .filter((path) => existsSync(path))
  .join(':');

/** An app folder as the image holds it: the repository's, with the compiled rules.js in place of rules.ts. */
function imageAppFolder(appId: string, { compiled = true } = {}): string {
  const folder = join(out, 'image', compiled ? 'compiled' : 'source', appId);
  cpSync(join(ROOT, 'apps', appId), folder, { recursive: true });
  rmSync(join(folder, 'rules.js'), { force: true });
  if (compiled) {
    rmSync(join(folder, 'rules.ts'));
    cpSync(join(out, 'apps', appId, 'rules.js'), join(folder, 'rules.js'));
  }
  return folder;
}

interface Started {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<{ code: number | null; output: string }>;
  /** Resolves once the output so far matches. */
  printed(pattern: RegExp): Promise<void>;
}

/** Starts what the image's CMD starts, dist/server.js, with exactly the given environment. */
function startImage(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.js'], {
    cwd: join(out, 'services', 'app'),
    env: { PATH: process.env.PATH ?? '', NODE_PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
        return match;
      };
      if (check()) return;
      const onData = () => {
        if (check()) {
          child.stdout?.off('data', onData);
          child.stderr?.off('data', onData);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      void exit.then(({ code }) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${output}`)));
    });
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = printed(/"msg":"Server listening at (http:\/\/[^"]+)"/).then((match) => match[1] as string);
  url.catch(() => undefined); // a test that expects the start to fail awaits `exit` instead
  return { child, url, exit, printed: async (pattern) => void (await printed(pattern)) };
}

async function stop(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  return (await started.exit).code;
}

/**
 * Stands in for the token service's token endpoint: client credentials with client_secret_basic (what the app
 * service sends) or client_secret_post, answering with an org token storage trusts.
 */
function tokenEndpoint(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const form = new URLSearchParams(body);
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
    const [id, secret] = basic
      ? Buffer.from(basic[1] as string, 'base64').toString().split(':').map(decodeURIComponent)
      : [form.get('client_id'), form.get('client_secret')];
    const known =
      request.method === 'POST' &&
      request.url === '/authentication/api/v1/token' &&
      form.get('grant_type') === 'client_credentials' &&
      id === ORG_CLIENT.clientId &&
      secret === ORG_CLIENT.clientSecret;
    response.setHeader('content-type', 'application/json');
    if (!known) {
      response.statusCode = 401;
      response.end(JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed' }));
      return;
    }
    // The app's own client: its token names the app.
    const token = storage.issuer.appToken({ app: 'skd/tax-return', orgNumber: '974761076', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    response.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 1800 }));
  });
}

async function listenTokenEndpoint(port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer(tokenEndpoint);
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/authentication/api/v1/token` };
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'app-image-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'app', '--out-dir', out], { cwd: ROOT, stdio: 'pipe' });

  storage = await startStorage('embedded');
  storageUrl = `${await storage.app.listen({ host: '127.0.0.1', port: 0 })}/storage/api/v1`;
  ({ url: tokenUrl } = await listenTokenEndpoint());
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await storage?.close();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  if (out) rmSync(out, { recursive: true, force: true });
});

const ruleContext = (partyId: string): RuleContext => ({
  appId: 'skd/tax-return',
  instanceOwnerPartyId: partyId,
  principal: { kind: 'user', userId: '1001', partyId, scopes: [], subject: 'user:1001' } as unknown as RuleContext['principal'],
});

describe('compiled rules.js', () => {
  it('needs nothing but Node built-ins', () => {
    for (const appId of ['nav/child-benefit', 'skd/tax-return']) {
      const text = readFileSync(join(out, 'apps', appId, 'rules.js'), 'utf8');
      const required = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => (match[1] as string).replace(/^node:/, ''));
      expect({ appId, thirdParty: required.filter((name) => !builtinModules.includes(name)) }).toEqual({ appId, thirdParty: [] });
      expect(text).not.toContain('@forms/');
    }
  });

  it('loads as rules, and the RuleViolation it throws, a copy of the class, is recognised by its brand', async () => {
    const loaded = checkRulesModule(require(join(out, 'apps', 'skd', 'tax-return', 'rules.js')), 'rules.js');
    expect(loaded.problems).toEqual([]);
    expect(Object.keys(loaded.rules).sort()).toEqual(['calculate', 'instanceOptions', 'onInstantiate', 'options', 'validate']);
    const thrown = await Promise.resolve()
      .then(() => loaded.rules.onInstantiate?.(ruleContext('912345')))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(thrown).toEqual(expect.objectContaining({ name: 'RuleViolation', code: 'PartyNotAllowed' }));
    // The reason for the brand: instanceof cannot see that this is a RuleViolation.
    expect(thrown).not.toBeInstanceOf(RuleViolation);
    expect(isRuleViolation(thrown)).toBe(true);
    await expect(Promise.resolve(loaded.rules.onInstantiate?.(ruleContext('50001')))).resolves.toBeUndefined();
  });
});

describe('the app image', () => {
  const userToken = (partyId: string) => storage.issuer.userToken({ userId: 1001, partyId, scopes: [instancesRead, instancesWrite] });
  const createInstance = (url: string, partyId: string) =>
    fetch(`${url}/skd/tax-return/instances?instanceOwnerPartyId=${partyId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken(partyId)}`, 'content-type': 'application/json' },
      body: '{}',
    });

  it('gets the org token with the org client, registers the app, and enforces the compiled rules', async () => {
    const clientFile = join(out, 'skd.json');
    // What `node dist/cli.js clients add` prints, as the compose bootstrap job leaves it.
    writeFileSync(clientFile, JSON.stringify({ client: { clientId: ORG_CLIENT.clientId, subject: { kind: 'org', org: 'skd' } }, clientSecret: ORG_CLIENT.clientSecret }));
    const started = startImage({
      APP_DIR: imageAppFolder('skd/tax-return'),
      STORAGE_URL: storageUrl,
      JWKS_URL: storage.config.JWKS_URL,
      TOKEN_ISSUER: storage.config.TOKEN_ISSUER,
      ORG_TOKEN_URL: tokenUrl,
      ORG_CLIENT_FILE: clientFile,
    });
    const url = await started.url;
    await started.printed(/app token for client skd-apps \(from [^)]*skd\.json\) obtained/);

    const refused = await createInstance(url, '912345');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual(expect.objectContaining({ code: 'PartyNotAllowed', detail: 'Party 912345 may not file a tax return.' }));

    // Allowed parties get their instance: storage knows the app, so the registration with the fetched token worked.
    const created = await createInstance(url, '50001');
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual(expect.objectContaining({ appId: 'skd/tax-return', org: 'skd' }));

    expect(await stop(started)).toBe(0);
  });

  it('stops at once, saying why, when the token service refuses the org client', async () => {
    const started = startImage({
      APP_DIR: imageAppFolder('skd/tax-return'),
      STORAGE_URL: storageUrl,
      ORG_TOKEN_URL: tokenUrl,
      ORG_CLIENT_ID: ORG_CLIENT.clientId,
      ORG_CLIENT_SECRET: 'not-the-secret-of-skd',
    });
    const { code, output } = await started.exit;
    expect(code).toBe(1);
    expect(output).toContain(`the token service at ${tokenUrl} refused org client skd-apps: invalid_client: Client authentication failed`);
    expect(output).not.toContain('not-the-secret-of-skd');
    expect(output).not.toContain('Server listening');
  });

  it('waits for a token service that is not there yet, then gets the token and starts', async () => {
    // A port nobody listens on until the service has failed to reach it at least once.
    const reserved = await listenTokenEndpoint();
    await new Promise((resolve) => reserved.server.close(resolve));
    const port = Number(new URL(reserved.url).port);
    const started = startImage({
      APP_DIR: imageAppFolder('skd/tax-return'),
      STORAGE_URL: storageUrl,
      JWKS_URL: storage.config.JWKS_URL,
      TOKEN_ISSUER: storage.config.TOKEN_ISSUER,
      ORG_TOKEN_URL: reserved.url,
      ORG_CLIENT_ID: ORG_CLIENT.clientId,
      ORG_CLIENT_SECRET: ORG_CLIENT.clientSecret,
    });
    await started.printed(/no org token from [^ ]+ yet \(AUTH_UNAVAILABLE: .*ECONNREFUSED.*\); retrying/);
    await listenTokenEndpoint(port);

    const url = await started.url;
    const created = await createInstance(url, '50001');
    expect(created.status).toBe(201);
    expect(await stop(started)).toBe(0);
    const { output } = await started.exit;
    expect(output).toContain('app token for client skd-apps (from ORG_CLIENT_ID) obtained');
    expect(output).not.toContain(ORG_CLIENT.clientSecret);
  });

  it('refuses an app folder whose rules.ts was not compiled, instead of running without its rules', async () => {
    const started = startImage({ APP_DIR: imageAppFolder('skd/tax-return', { compiled: false }), STORAGE_URL: storageUrl });
    const { code, output } = await started.exit;
    expect(code).toBe(1);
    expect(output).toContain('rules.ts: not compiled');
  });
});
