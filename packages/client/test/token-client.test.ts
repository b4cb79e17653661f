/**
 * TokenClient over HTTP against the real token service (embedded store, listening on a real port).
 */
import { createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { DomainError, Scopes } from '@forms/contracts';
import { TokenClient } from '../src';
import { AUDIENCE, ISSUER, keyPairFor, startAuth, type AuthHarness } from '../../../services/auth/test/support/auth-harness';

const { serviceOwnerRead, serviceOwnerWrite, instancesRead, instancesWrite } = Scopes;
let auth: AuthHarness;

beforeAll(async () => {
  auth = await startAuth({ listen: true });
});
afterAll(() => auth.close());

/** An HTTP server on 127.0.0.1 that records each request and refuses it as a token endpoint would. */
async function recordingServer() {
  const requests: Array<{ path: string | undefined; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      requests.push({ path: request.url, body });
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

/** Verifies a token the way every service does: against the token service's JWKS, issuer and audience. */
async function verified(token: string) {
  const jwks = createRemoteJWKSet(new URL(`${auth.url}/.well-known/jwks.json`));
  return (await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE })).payload;
}

describe('client secret', () => {
  let clientId: string;
  let secret: string;

  beforeAll(async () => {
    const registered = await auth.registerClient({ clientId: 'nav-archive', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    clientId = registered.clientId;
    secret = registered.clientSecret as string;
  });

  test.each(['client_secret_basic', 'client_secret_post'] as const)('%s gives a verifiable token and its expiry', async (secretMethod) => {
    const before = Date.now();
    const token = await new TokenClient({ authUrl: auth.url, clientId, clientSecret: secret, secretMethod }).getToken();
    const claims = await verified(token.accessToken);
    expect(claims).toMatchObject({ 'urn:altinn:org': 'nav', client_id: clientId });
    expect(token.scope.split(' ').sort()).toEqual([serviceOwnerRead, serviceOwnerWrite].sort());
    // expiresAt is counted from the request and matches the token's own exp to the second.
    expect(token.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 1800 * 1000 - 1000);
    expect(Math.abs(token.expiresAt.getTime() / 1000 - (claims.exp as number))).toBeLessThanOrEqual(2);
  });

  test('a narrower scope is asked for and granted', async () => {
    const token = await new TokenClient({ authUrl: auth.url, clientId, clientSecret: secret, scope: [serviceOwnerRead] }).getToken();
    expect(token.scope).toBe(serviceOwnerRead);
    expect(decodeJwt(token.accessToken).scope).toBe(serviceOwnerRead);
  });

  test('a wrong secret is unauthenticated with the OAuth error as code; a scope the client lacks is invalid_scope', async () => {
    const wrong = await failure(new TokenClient({ authUrl: auth.url, clientId, clientSecret: 'wrong' }).getToken());
    expect(wrong).toMatchObject({ kind: 'unauthenticated', code: 'invalid_client' });
    const scope = await failure(new TokenClient({ authUrl: auth.url, clientId, clientSecret: secret, scope: instancesRead }).getToken());
    expect(scope).toMatchObject({ kind: 'invalid', code: 'invalid_scope' });
  });

  test('an unreachable token service is AUTH_UNAVAILABLE', async () => {
    const error = await failure(new TokenClient({ authUrl: 'http://127.0.0.1:1', clientId, clientSecret: secret }).getToken());
    expect(error).toMatchObject({ kind: 'unavailable', code: 'AUTH_UNAVAILABLE' });
  });

  test('tokenProvider caches the token until shortly before it expires', async () => {
    let now = Date.now();
    const client = new TokenClient({ authUrl: auth.url, clientId, clientSecret: secret, now: () => now });
    const provider = client.tokenProvider();
    const [first, second] = await Promise.all([provider(), provider()]);
    expect(second).toBe(first);
    expect(await provider()).toBe(first);
    now += 1800 * 1000 - 20_000; // within the renewal margin
    const renewed = await provider();
    expect(renewed).not.toBe(first);
    expect((await verified(renewed)).client_id).toBe(clientId);
  });
});

describe('private_key_jwt', () => {
  test.each(['RS256', 'ES256', 'EdDSA'] as const)('a %s key signs a fresh assertion for each token', async (alg) => {
    const { clientId, privateKey } = await auth.registerKeyClient({ clientId: `ledger-${alg.toLowerCase()}`, kind: 'system', partyId: '50003', scopes: [instancesRead, instancesWrite] }, alg);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    // The harness's token service calls itself http://auth.test: the assertion's audience is its issuer.
    const client = new TokenClient({ authUrl: auth.url, clientId, privateKey: pem, audience: ISSUER });
    const first = await client.getToken();
    const second = await client.getToken(); // a replayed jti would be refused
    expect(first.accessToken).not.toBe(second.accessToken);
    expect(await verified(first.accessToken)).toMatchObject({ 'urn:altinn:systemid': clientId, 'urn:altinn:partyid': '50003' });
  });

  test('the audience defaults to the token endpoint URL: the assertion sent says so, signed by the key', async () => {
    const { publicKey, privateKey } = keyPairFor('RS256');
    const { url, requests, close } = await recordingServer();
    try {
      await failure(new TokenClient({ authUrl: url, clientId: 'ledger-aud', privateKey }).getToken());
      const [request] = requests;
      expect(request?.path).toBe('/authentication/api/v1/token');
      const form = new URLSearchParams(request?.body);
      expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const { payload } = await jwtVerify(form.get('client_assertion')!, publicKey, {
        audience: `${url}/authentication/api/v1/token`,
        issuer: 'ledger-aud',
        subject: 'ledger-aud',
        maxTokenAge: 120,
      });
      expect(payload.jti).toEqual(expect.any(String));
    } finally {
      await close();
    }
  });

  test('the real service refuses an assertion whose default audience is not its public token URL', async () => {
    const { clientId, privateKey } = await auth.registerKeyClient({ clientId: 'ledger-aud', kind: 'system', partyId: '50003', scopes: [instancesRead] });
    const client = new TokenClient({ authUrl: auth.url, clientId, privateKey });
    // This service's public token endpoint is http://auth.test/…, not the address it was reached at.
    const error = await failure(client.getToken());
    expect(error).toMatchObject({ kind: 'unauthenticated', code: 'invalid_client' });
    expect(error.message).toMatch(/audience/);
  });

  test('a key other than the registered one is refused', async () => {
    const { clientId } = await auth.registerKeyClient({ clientId: 'ledger-other', kind: 'system', partyId: '50003', scopes: [instancesRead] });
    const { privateKey } = keyPairFor('RS256');
    const error = await failure(new TokenClient({ authUrl: auth.url, clientId, privateKey, audience: ISSUER }).getToken());
    expect(error).toMatchObject({ kind: 'unauthenticated', code: 'invalid_client' });
  });

  test('options are checked when the client is made', () => {
    const { publicKey, privateKey } = keyPairFor('ES256');
    expect(() => new TokenClient({ authUrl: auth.url, clientId: 'x' })).toThrow(/secret or a private key/);
    expect(() => new TokenClient({ authUrl: auth.url, clientId: 'x', clientSecret: 's', privateKey })).toThrow(/secret or a private key/);
    expect(() => new TokenClient({ authUrl: auth.url, clientId: 'x', privateKey: createPublicKey(privateKey) })).toThrow(/private key/);
    expect(publicKey.type).toBe('public');
  });
});
