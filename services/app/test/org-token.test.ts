/**
 * Where the app service's org token comes from (src/domain/org-token.ts): the configuration it accepts, the
 * client files it reads, and client credentials over HTTP against the real token service, including its refusals
 * and a token service that is not there yet. The token is then good for the registration in a real storage.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@forms/test-support';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppDefinition } from '@forms/app-definition';
import { StorageClient, TOKEN_PATH } from '@forms/client';
import { Scopes } from '@forms/contracts';
import { authUrlOf, loadAppServiceConfig } from '../src/config';
import { appTokenSource, obtainAppToken } from '../src/domain/app-token';
import { fetchOrgToken, OrgTokenError, readOrgClientFile, type OrgTokenConfig, type OrgTokenLog } from '../src/domain/org-token';

/** The first token, as the service gets it at start-up. */
const obtainOrgToken = async (...args: Parameters<typeof obtainAppToken>) => (await obtainAppToken(...args))?.token;
import { registerInStorage } from '../src/domain/registration';
import { runCli } from '../../auth/src/cli';
import { ADMIN_KEY, AUDIENCE, ISSUER, decodeToken, startAuth, startVerifier, whoami, type AuthHarness } from '../../auth/test/support/auth-harness';
import { startStorage } from '../../storage/test/support/storage-harness';
import { appFolder } from './support/app-harness';

const { serviceOwnerRead, serviceOwnerWrite } = Scopes;
const ORG = { kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] };

let dir: string;
let auth: AuthHarness;
let tokenUrl: string;
let navClient: { clientId: string; clientSecret: string };

/** Collects what would go to the app's pino logger. */
function recordingLog(): OrgTokenLog & { lines: { level: string; details: object; message: string }[]; text(): string } {
  const lines: { level: string; details: object; message: string }[] = [];
  return {
    lines,
    info: (details, message) => lines.push({ level: 'info', details, message }),
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
    text: () => JSON.stringify(lines),
  };
}

async function failure(promise: Promise<unknown>): Promise<OrgTokenError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OrgTokenError)) throw new Error(`expected an OrgTokenError, got ${String(error)}`);
  return error;
}

/** The token's claims, once a service trusting the token service (by its JWKS at authUrl) has accepted it. */
async function verified(token: string, authUrl: string = auth.url): Promise<Record<string, unknown>> {
  const verifier = await startVerifier(authUrl);
  try {
    const answer = await whoami(verifier, token);
    if (answer.statusCode !== 200) throw new Error(`token not accepted: ${answer.statusCode} ${answer.body}`);
  } finally {
    await verifier.close();
  }
  return decodeToken(token).claims;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'org-token-'));
  auth = await startAuth({ listen: true });
  tokenUrl = `${auth.url}${TOKEN_PATH}`;
  navClient = (await auth.registerClient({ clientId: 'nav-apps', ...ORG })) as typeof navClient;
});
afterAll(async () => {
  await auth.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  const base = { APP_DIR: '/app/apps/nav/child-benefit' };
  const url = `http://auth:5100${TOKEN_PATH}`;

  test.each([
    ['nothing', {}],
    ['a ready-made token', { ORG_TOKEN: 'a.b.c' }],
    ['id and secret', { ORG_TOKEN_URL: url, ORG_CLIENT_ID: 'nav-apps', ORG_CLIENT_SECRET: 's' }],
    ['a client file', { ORG_TOKEN_URL: url, ORG_CLIENT_FILE: '/org-clients/nav.json' }],
    ['a token and a client (the token wins)', { ORG_TOKEN: 'a.b.c', ORG_TOKEN_URL: url, ORG_CLIENT_FILE: '/org-clients/nav.json' }],
    ['empty values, which count as unset', { ORG_TOKEN: '', ORG_TOKEN_URL: '', ORG_CLIENT_ID: '', ORG_CLIENT_SECRET: '', ORG_CLIENT_FILE: '' }],
  ])('accepts %s', (_name, env) => {
    expect(() => loadAppServiceConfig({ ...base, ...env })).not.toThrow();
  });

  test.each([
    ['an id without secret', { ORG_TOKEN_URL: url, ORG_CLIENT_ID: 'nav-apps' }, 'set both ORG_CLIENT_ID and ORG_CLIENT_SECRET'],
    ['a secret without id', { ORG_TOKEN_URL: url, ORG_CLIENT_SECRET: 's' }, 'set both ORG_CLIENT_ID and ORG_CLIENT_SECRET'],
    ['id, secret and a file', { ORG_TOKEN_URL: url, ORG_CLIENT_ID: 'nav-apps', ORG_CLIENT_SECRET: 's', ORG_CLIENT_FILE: '/f.json' }, 'not both'],
    ['a client without token URL', { ORG_CLIENT_FILE: '/f.json' }, 'ORG_TOKEN_URL (the token endpoint'],
    ['a token URL that is not the token endpoint', { ORG_TOKEN_URL: 'http://auth:5100/authentication', ORG_CLIENT_FILE: '/f.json' }, `must end with ${TOKEN_PATH}`],
    ['a token URL that is not a URL', { ORG_TOKEN_URL: 'auth:5100', ORG_CLIENT_FILE: '/f.json' }, 'ORG_TOKEN_URL'],
    ['a token URL with a query', { ORG_TOKEN_URL: `${url}?x=1`, ORG_CLIENT_FILE: '/f.json' }, 'is not a token endpoint'],
  ])('refuses %s', (_name, env, message) => {
    expect(() => loadAppServiceConfig({ ...base, ...env })).toThrow(message);
  });

  test('refuses credentials in the token URL without repeating them', () => {
    const attempt = () => loadAppServiceConfig({ ...base, ORG_TOKEN_URL: `http://user:p4ssw0rd@auth:5100${TOKEN_PATH}`, ORG_CLIENT_FILE: '/f.json' });
    expect(attempt).toThrow('ORG_TOKEN_URL must not hold credentials');
  });

  test("the token service's base URL is the token URL without the token path, a gateway's prefix kept", () => {
    expect(authUrlOf(`http://auth:5100${TOKEN_PATH}`)).toBe('http://auth:5100');
    expect(authUrlOf(`https://gateway.example.com/auth${TOKEN_PATH}`)).toBe('https://gateway.example.com/auth');
    expect(loadAppServiceConfig({ ...base, ORG_TOKEN_URL: `http://auth:5100${TOKEN_PATH}/`, ORG_CLIENT_FILE: '/f.json' }).ORG_TOKEN_URL).toBe(
      `http://auth:5100${TOKEN_PATH}`,
    );
  });
});

describe('client files', () => {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test("reads what the token service CLI's `clients add` prints", async () => {
    const out: string[] = [];
    const code = await runCli(
      ['clients', 'add', '--url', auth.url, '--kind', 'org', '--org', 'nav', '--org-number', '889640782', '--id', 'nav-cli', '--scope', `${serviceOwnerRead} ${serviceOwnerWrite}`],
      { ADMIN_API_KEY: ADMIN_KEY },
      { out: (text) => out.push(text), err: () => undefined },
    );
    expect(code).toBe(0);
    const path = file('cli.json', out.join('\n'));
    const client = readOrgClientFile(path);
    expect(client).toEqual({ clientId: 'nav-cli', clientSecret: expect.any(String), from: path });

    const log = recordingLog();
    const token = await obtainOrgToken({ ORG_TOKEN_URL: tokenUrl, ORG_CLIENT_FILE: path }, { log });
    expect(await verified(token as string)).toMatchObject({ 'urn:altinn:org': 'nav', client_id: 'nav-cli' });
    expect(log.lines).toEqual([{ level: 'info', details: { clientId: 'nav-cli', from: path }, message: `app token for client nav-cli (from ${path}) obtained` }]);
    expect(log.text()).not.toContain(client.clientSecret);
    expect(log.text()).not.toContain(token);
  });

  test('reads a flat {clientId, clientSecret}', async () => {
    const path = file('flat.json', JSON.stringify(navClient));
    expect(readOrgClientFile(path)).toEqual({ ...navClient, from: path });
    const token = await obtainOrgToken({ ORG_TOKEN_URL: tokenUrl, ORG_CLIENT_FILE: path }, { log: recordingLog() });
    expect(await verified(token as string)).toMatchObject({ client_id: 'nav-apps' });
  });

  test('says what is wrong with a file, never what is in it', async () => {
    const missing = join(dir, 'missing.json');
    expect(() => readOrgClientFile(missing)).toThrow(`ORG_CLIENT_FILE ${missing} cannot be read: ENOENT`);
    const broken = file('broken.json', '{"clientId": "nav-apps", "clientSecret": "s3cr3t-in-a-broken-file"');
    expect(() => readOrgClientFile(broken)).toThrow(`ORG_CLIENT_FILE ${broken} is not JSON`);
    try {
      readOrgClientFile(broken);
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t');
    }
    // A key client (private_key_jwt) has no secret to print.
    expect(() => readOrgClientFile(file('key.json', JSON.stringify({ client: { clientId: 'nav-key' } })))).toThrow('has no clientSecret');
    expect(() => readOrgClientFile(file('nothing.json', '[]'))).toThrow('has no clientId');
    await expect(obtainOrgToken({ ORG_TOKEN_URL: tokenUrl, ORG_CLIENT_FILE: missing }, { log: recordingLog() })).rejects.toBeInstanceOf(OrgTokenError);
  });
});

describe('the org token', () => {
  test('a client token is renewed a minute before it expires, and concurrent callers share one renewal', async () => {
    let clock = Date.now();
    const config = { ORG_TOKEN_URL: tokenUrl, ORG_CLIENT_ID: navClient.clientId, ORG_CLIENT_SECRET: navClient.clientSecret };
    const source = appTokenSource(config, { log: recordingLog(), now: () => clock });
    if (!source) throw new Error('a client is configured');
    const first = await source.token();
    expect(await source.token()).toBe(first);
    const { exp } = JSON.parse(Buffer.from(first.split('.')[1] as string, 'base64url').toString()) as { exp: number };
    clock = exp * 1000 - 59_000;
    const [a, b] = await Promise.all([source.token(), source.token()]);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
  });

  test('ORG_TOKEN is used as it is, without asking the token service', async () => {
    const log = recordingLog();
    const config: OrgTokenConfig = { ORG_TOKEN: 'a.ready.token', ORG_TOKEN_URL: `http://127.0.0.1:${await freePort()}${TOKEN_PATH}`, ORG_CLIENT_ID: 'x', ORG_CLIENT_SECRET: 'y' };
    await expect(obtainOrgToken(config, { log })).resolves.toBe('a.ready.token');
    expect(log.lines.map((line) => line.message)).toEqual(['ORG_TOKEN is set and used as it is; the app client is not used']);
  });

  test('without token or client there is none, and the log says the app is not registered', async () => {
    const log = recordingLog();
    await expect(obtainOrgToken({}, { log })).resolves.toBeUndefined();
    expect(log.lines[0]?.message).toContain('the app is not registered in storage at start-up');
  });

  test('from ORG_CLIENT_ID and ORG_CLIENT_SECRET, and it registers the app in a storage that trusts the token service', async () => {
    const token = await obtainOrgToken({ ORG_TOKEN_URL: tokenUrl, ORG_CLIENT_ID: navClient.clientId, ORG_CLIENT_SECRET: navClient.clientSecret }, { log: recordingLog() });
    const storage = await startStorage('embedded', { JWKS_URL: `${auth.url}/.well-known/jwks.json`, TOKEN_ISSUER: ISSUER, TOKEN_AUDIENCE: AUDIENCE });
    try {
      const address = await storage.app.listen({ host: '127.0.0.1', port: 0 });
      const client = new StorageClient({ baseUrl: `${address}/storage/api/v1`, timeoutMs: 3000 });
      const registered = await registerInStorage(await loadAppDefinition(appFolder('nav/child-benefit')), client, token as string);
      expect(registered).toMatchObject({ id: 'nav/child-benefit', org: 'nav' });
    } finally {
      await storage.close();
    }
  });

  describe('refused by the token service: stops at once, without the secret', () => {
    const noSleep = jest.fn(async () => undefined);
    beforeEach(() => noSleep.mockClear());

    test.each([
      ['a wrong secret', () => ({ clientId: navClient.clientId, clientSecret: 'not-the-secret-of-nav' }), 'invalid_client: Client authentication failed'],
      ['an unknown client', () => ({ clientId: 'nobody', clientSecret: 'not-the-secret-of-nav' }), 'invalid_client: Client authentication failed'],
    ])('%s', async (_name, client, problem) => {
      const log = recordingLog();
      const { clientId, clientSecret } = client();
      const error = await failure(fetchOrgToken(tokenUrl, { clientId, clientSecret, from: 'ORG_CLIENT_ID' }, { log, sleep: noSleep }));
      expect(error.message).toBe(`the token service at ${tokenUrl} refused org client ${clientId}: ${problem}`);
      expect(error.message).not.toContain(clientSecret);
      expect(noSleep).not.toHaveBeenCalled();
      expect(log.lines).toEqual([]);
    });

    test('a URL where no token service answers (404)', async () => {
      const wrong = `${auth.url}/elsewhere${TOKEN_PATH}`;
      const error = await failure(fetchOrgToken(wrong, { ...navClient, from: 'ORG_CLIENT_ID' }, { log: recordingLog(), sleep: noSleep }));
      expect(error.message).toContain(`the token service at ${wrong} refused org client nav-apps: `);
      expect(error.message).not.toContain(navClient.clientSecret);
      expect(noSleep).not.toHaveBeenCalled();
    });
  });

  describe('a token service that is not there yet', () => {
    test('is retried with backoff until it listens, then gives the token', async () => {
      const port = await freePort();
      const late = await startAuth();
      const registered = (await late.registerClient({ clientId: 'nav-late', ...ORG })) as typeof navClient;
      const log = recordingLog();
      const pending = fetchOrgToken(`http://127.0.0.1:${port}${TOKEN_PATH}`, { ...registered, from: 'ORG_CLIENT_ID' }, { log, retry: { firstDelayMs: 50, maxDelayMs: 200 } });
      try {
        await new Promise((resolve) => setTimeout(resolve, 400));
        await late.app.listen({ host: '127.0.0.1', port });
        const token = await pending;
        expect(await verified(token, `http://127.0.0.1:${port}`)).toMatchObject({ client_id: 'nav-late' });
      } finally {
        await late.close();
      }
      const warnings = log.lines.filter((line) => line.level === 'warn');
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      expect(warnings[0]?.message).toMatch(/^no org token from http:\/\/127\.0\.0\.1:\d+\/authentication\/api\/v1\/token yet \(AUTH_UNAVAILABLE: .*\); retrying in 50 ms$/);
      expect(warnings[1]?.message).toMatch(/retrying in 100 ms$/);
      expect(warnings[0]?.details).toEqual({ tokenUrl: `http://127.0.0.1:${port}${TOKEN_PATH}`, attempt: 1, code: 'AUTH_UNAVAILABLE' });
      expect(log.text()).not.toContain(registered.clientSecret);
    });

    test('gives up after the retry time, with backoff capped and the last wait cut to the deadline', async () => {
      const url = `http://127.0.0.1:${await freePort()}${TOKEN_PATH}`;
      let clock = 0;
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
        clock += ms;
      };
      const error = await failure(fetchOrgToken(url, { ...navClient, from: 'ORG_CLIENT_ID' }, { log: recordingLog(), sleep, now: () => clock }));
      expect(waits).toEqual([500, 1000, 2000, 4000, ...Array(10).fill(5000), 2500]);
      expect(waits.reduce((sum, wait) => sum + wait, 0)).toBe(60_000);
      expect(error.message).toMatch(new RegExp(`^no org token from ${url.replace(/[.]/g, '\\.')} after 16 attempts in 60 s: AUTH_UNAVAILABLE: `));
    });

    test('5xx answers are retried (the token service behind a proxy that is not ready)', async () => {
      let calls = 0;
      const proxy: Server = createServer((request, response) => {
        calls += 1;
        if (calls === 1) {
          response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'temporarily_unavailable' }));
          return;
        }
        if (calls === 2) {
          response.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
          return;
        }
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          void fetch(`${auth.url}${request.url ?? ''}`, {
            method: request.method ?? 'POST',
            headers: Object.fromEntries(['authorization', 'content-type', 'accept'].flatMap((name) => (request.headers[name] ? [[name, String(request.headers[name])]] : []))),
            body: Buffer.concat(chunks),
          }).then(async (answer) => response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(await answer.text()));
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${TOKEN_PATH}`;
        const log = recordingLog();
        const token = await fetchOrgToken(url, { ...navClient, from: 'ORG_CLIENT_ID' }, { log, retry: { firstDelayMs: 10 } });
        expect(await verified(token)).toMatchObject({ client_id: 'nav-apps' });
        expect(calls).toBe(3);
        expect(log.lines.map((line) => (line.details as { code: string }).code)).toEqual(['AUTH_UNAVAILABLE', 'AUTH_UNAVAILABLE']);
      } finally {
        await new Promise((resolve) => proxy.close(resolve));
      }
    });

    test('429 (rate limited) is retried until the window has passed', async () => {
      const limited = await startAuth({ listen: true, env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_SECONDS: '1' } });
      try {
        const registered = (await limited.registerClient({ clientId: 'nav-busy', ...ORG })) as typeof navClient;
        const url = `${limited.url}${TOKEN_PATH}`;
        const log = recordingLog();
        // The first token uses up the window; the second is limited and waits for the next one.
        await fetchOrgToken(url, { ...registered, from: 'ORG_CLIENT_ID' }, { log });
        const token = await fetchOrgToken(url, { ...registered, from: 'ORG_CLIENT_ID' }, { log, retry: { firstDelayMs: 200, maxDelayMs: 400 } });
        expect(await verified(token, limited.url)).toMatchObject({ client_id: 'nav-busy' });
        const codes = log.lines.map((line) => (line.details as { code: string }).code);
        expect(codes.length).toBeGreaterThanOrEqual(1);
        expect(new Set(codes)).toEqual(new Set(['temporarily_unavailable']));
      } finally {
        await limited.close();
      }
    });
  });
});
