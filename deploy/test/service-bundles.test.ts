/**
 * What the token service and storage images run: the production bundles (dist/server.js, and the token
 * service's dist/cli.js) that scripts/build.mjs makes, started as the images' CMD starts them, with
 * NODE_ENV=production and only their environment for configuration. They find each other over real HTTP:
 * storage verifies the tokens the bundled token service issues against its JWKS.
 *
 * As in app-image.test.ts, NODE_PATH lists the workspace packages' node_modules in place of the image's one
 * hoisted node_modules.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scopes } from '@forms/contracts';
import { ROOT } from './support/deploy-files';

const ISSUER = 'http://auth.bundle.test';
const ADMIN_API_KEY = 'an-admin-key-for-the-bundle-test';
const NODE_PATH = [
  ...['auth', 'storage'].map((name) => join(ROOT, 'services', name, 'node_modules')),
  ...readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'node_modules')),
]
  .filter((path) => existsSync(path))
  .join(':');

interface Bundle {
  child: ChildProcess;
  url: string;
  output: () => string;
  exit: Promise<number | null>;
}

let out: string;
let auth: Bundle;
let storage: Bundle;
const authDataDir = () => join(out, 'data', 'auth');

/** Starts `dist/server.js` of a built service, as its image does, and waits for the address it listens on. */
async function startBundle(service: 'auth' | 'storage', env: Record<string, string>): Promise<Bundle> {
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.js'], {
    cwd: join(out, 'services', service),
    env: { PATH: process.env.PATH ?? '', NODE_PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /"msg":"Server listening at (http:\/\/[^"]+)"/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', check);
    void exit.then((code) => reject(new Error(`${service} bundle exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output, exit };
}

/** The bundled admin CLI (dist/cli.js), as `docker compose exec auth node dist/cli.js ...` runs it. */
function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['dist/cli.js', ...args], {
    cwd: join(out, 'services', 'auth'),
    env: { PATH: process.env.PATH ?? '', NODE_PATH, NODE_ENV: 'production', DATA_DIR: authDataDir(), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

async function orgToken(): Promise<string> {
  const registered = await fetch(`${auth.url}/authentication/api/v1/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'nav-bundle', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] }),
  });
  expect(registered.status).toBe(201);
  const { clientSecret } = (await registered.json()) as { clientSecret: string };
  const token = await fetch(`${auth.url}/authentication/api/v1/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`nav-bundle:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(token.status).toBe(200);
  return ((await token.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'service-bundles-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'auth', 'storage', '--out-dir', out], { cwd: ROOT, stdio: 'pipe' });
  auth = await startBundle('auth', { DATA_DIR: authDataDir(), ISSUER, ADMIN_API_KEY, LOG_LEVEL: 'info' });
  storage = await startBundle('storage', {
    DATA_DIR: join(out, 'data', 'storage'),
    JWKS_URL: `${auth.url}/.well-known/jwks.json`,
    TOKEN_ISSUER: ISSUER,
    TOKEN_AUDIENCE: 'forms-platform',
    LOG_LEVEL: 'info',
    // As the Kubernetes manifests run it (there on 9464).
    METRICS_PORT: '0',
  });
}, 120_000);

afterAll(async () => {
  for (const bundle of [storage, auth]) if (bundle && bundle.child.exitCode === null) bundle.child.kill('SIGKILL');
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('production bundles of the token service and storage', () => {
  it('answer /health and /ready', async () => {
    for (const base of [auth.url, storage.url]) {
      for (const path of ['/health', '/ready']) {
        const response = await fetch(`${base}${path}`);
        expect({ base, path, status: response.status }).toEqual({ base, path, status: 200 });
      }
    }
  });

  it('serve Prometheus metrics on their own port where METRICS_PORT says, with the requests so far', async () => {
    expect((await fetch(`${storage.url}/health`)).status).toBe(200);
    const metricsUrl = /"msg":"metrics at (http:\/\/[^"]+)"/.exec(storage.output())?.[1];
    const text = await (await fetch(metricsUrl as string)).text();
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    // Not on the API: there it is a route like any unknown one (401 without a token).
    expect((await fetch(`${storage.url}/metrics`)).status).not.toBe(200);
  });

  it('issue a token by client credentials that the storage bundle accepts, and only with it', async () => {
    const token = await orgToken();
    const app = await fetch(`${storage.url}/storage/api/v1/applications/nav/bundle-check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataTypes: [{ id: 'form', allowedContentTypes: ['application/json'], maxCount: 1, minCount: 1 }] }),
    });
    expect(app.status).toBe(201);
    expect(await app.json()).toEqual(expect.objectContaining({ id: 'nav/bundle-check', org: 'nav' }));

    const query = await fetch(`${storage.url}/storage/api/v1/instances?appId=nav/bundle-check`, { headers: { authorization: `Bearer ${token}` } });
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual(expect.objectContaining({ count: 0, instances: [] }));

    const anonymous = await fetch(`${storage.url}/storage/api/v1/instances?appId=nav/bundle-check`);
    expect(anonymous.status).toBe(401);
    // Production: no development tokens, whatever asks for them.
    const testToken = await fetch(`${auth.url}/authentication/api/v1/testtoken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"org":"nav"}' });
    expect(testToken.status).toBe(404);
  });

  it('run the bundled admin CLI: through the admin API, and refused in one line on the locked DATA_DIR', () => {
    const listed = cli(['--url', auth.url, 'clients', 'get', 'nav-bundle'], { ADMIN_API_KEY });
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(expect.objectContaining({ clientId: 'nav-bundle' }));

    const direct = cli(['keys', 'list']);
    expect(direct.status).toBe(1);
    expect(direct.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^error: .* is in use by process ${auth.child.pid} `))]);
  });

  it('close gracefully on SIGTERM, storage first, and the token service releases DATA_DIR', async () => {
    storage.child.kill('SIGTERM');
    expect(await storage.exit).toBe(0);
    auth.child.kill('SIGTERM');
    expect(await auth.exit).toBe(0);
    expect(existsSync(join(authDataDir(), '.lock'))).toBe(false);
    expect(cli(['keys', 'list']).status).toBe(0);
  });
});
