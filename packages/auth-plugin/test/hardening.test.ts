/**
 * Issue 9 item 5 and issue 11: tokens the issuer could not have made are refused, made-up kids cannot make the
 * verifier hammer the JWKS, and the verified-token cache never outlives `exp` or a key rotated out.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Claims } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { createSigningKeySource } from '../src/signing-keys';
import { TokenVerifier } from '../src/token-verifier';
import { bearer, buildApp, sleep } from './app';

const userClaims = { [Claims.userId]: '1337', [Claims.partyId]: '50001' };

let issuer: TestIssuer;
const openApps: FastifyInstance[] = [];

async function appFor(options: Parameters<typeof buildApp>[1] = {}): Promise<FastifyInstance> {
  const app = await buildApp(issuer, options);
  openApps.push(app);
  return app;
}

async function call(app: FastifyInstance, token: string) {
  const response = await app.inject({ method: 'GET', url: '/whoami', headers: bearer(token) });
  return { status: response.statusCode, code: (response.json() as { code?: string }).code };
}

beforeEach(async () => {
  issuer = await TestIssuer.start();
});
afterEach(async () => {
  await Promise.all(openApps.splice(0).map((app) => app.close()));
  await issuer.stop();
});

describe('unknown kid', () => {
  it('300 tokens with random kids refetch the JWKS once per refetch interval, not 300 times', async () => {
    const refetchIntervalMs = 1_500;
    const app = await appFor({ jwksRefetchIntervalMs: refetchIntervalMs });
    const randomKidTokens = () => Array.from({ length: 300 }, () => issuer.token(userClaims, { kid: randomUUID() }));

    // 100 at a time concurrently (they share one fetch), the rest one by one.
    const first = randomKidTokens();
    const concurrent = await Promise.all(first.slice(0, 100).map((token) => call(app, token)));
    const sequential = [];
    for (const token of first.slice(100)) sequential.push(await call(app, token));
    for (const result of [...concurrent, ...sequential]) expect(result).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    // The key set itself, then one refetch in case the kid was a new key.
    expect(issuer.jwksRequestCount).toBe(2);

    await sleep(refetchIntervalMs + 100);
    for (const token of randomKidTokens()) expect((await call(app, token)).status).toBe(401);
    expect(issuer.jwksRequestCount).toBe(3);
    // Known keys still work meanwhile, without a fetch.
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
    expect(issuer.jwksRequestCount).toBe(3);
  });

  it('a key added by rotation is fetched on first sight of its kid, even right after a fetch', async () => {
    const app = await appFor({ jwksRefetchIntervalMs: 60_000 });
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
    await issuer.rotateKey();
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
    expect(issuer.jwksRequestCount).toBe(2);
    // Within the interval, made-up kids no longer reach the JWKS.
    expect((await call(app, issuer.token(userClaims, { kid: randomUUID() }))).status).toBe(401);
    expect(issuer.jwksRequestCount).toBe(2);
  });
});

describe('tokens the issuer could not have made', () => {
  it('refuses an unknown crit header parameter, before fetching keys', async () => {
    const app = await appFor();
    const critical = issuer.token(userClaims, { header: { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true } });
    expect(await call(app, critical)).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    expect(issuer.jwksRequestCount).toBe(0);
    expect(await call(app, issuer.token(userClaims, { header: { crit: [] } }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
  });

  it('refuses an iat in the future beyond the clock tolerance, accepts one within it', async () => {
    const app = await appFor({ clockToleranceSeconds: 30 });
    const now = Math.floor(Date.now() / 1000);
    expect(await call(app, issuer.token({ ...userClaims, iat: now + 120, exp: now + 420 }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    expect((await call(app, issuer.token({ ...userClaims, iat: now + 10, exp: now + 310 }))).status).toBe(200);
  });

  it('refuses a lifetime (exp - iat) beyond the configured maximum, and a token without iat', async () => {
    const app = await appFor({ maxTokenLifetimeSeconds: 600 });
    const now = Math.floor(Date.now() / 1000);
    expect(await call(app, issuer.token({ ...userClaims, iat: now, exp: now + 3_600 }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    // Issued long ago to look short-lived from now: the lifetime still counts from iat.
    expect(await call(app, issuer.token({ ...userClaims, iat: now - 3_000, exp: now + 60 }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    expect((await call(app, issuer.token({ ...userClaims, iat: now, exp: now + 600 }))).status).toBe(200);
    expect(await call(app, issuer.token({ ...userClaims, iat: undefined }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
  });

  it('refuses the default maximum of a day (the token service’s cap) plus one second', async () => {
    const app = await appFor();
    const now = Math.floor(Date.now() / 1000);
    expect((await call(app, issuer.token({ ...userClaims, iat: now, exp: now + 86_400 }))).status).toBe(200);
    expect(await call(app, issuer.token({ ...userClaims, iat: now, exp: now + 86_401 }))).toEqual({ status: 401, code: 'INVALID_TOKEN' });
  });
});

describe('verified-token cache', () => {
  /** A verifier on the issuer's real JWKS that counts how often it had to verify a token in full. */
  function countingVerifier(options: { cacheSize?: number; cacheTtlMs?: number; now?: () => number } = {}) {
    let verifications = 0;
    const keys = createSigningKeySource({ jwksUrl: issuer.jwksUrl, cacheTtlMs: options.cacheTtlMs ?? 60_000, refetchIntervalMs: 0, timeoutMs: 2_000 });
    const verifier = new TokenVerifier(
      { issuer: issuer.issuer, clockToleranceSeconds: 0, maxLifetimeSeconds: 86_400, cacheSize: options.cacheSize ?? 100, keys, ...(options.now && { now: options.now }) },
      (claims) => {
        verifications += 1;
        return claims.jti;
      },
    );
    return { verifier, verifications: () => verifications };
  }

  it('verifies a token once and answers later calls from the cache', async () => {
    const { verifier, verifications } = countingVerifier();
    const token = issuer.token(userClaims);
    for (let i = 0; i < 4; i++) await verifier.verify(token);
    expect(verifications()).toBe(1);
    await verifier.verify(issuer.token(userClaims)); // another token is another entry
    expect(verifications()).toBe(2);
  });

  it('is bounded: the least recently used token is forgotten', async () => {
    const { verifier, verifications } = countingVerifier({ cacheSize: 2 });
    const [a, b, c] = [issuer.token(userClaims), issuer.token(userClaims), issuer.token(userClaims)];
    for (const token of [a, b, c, c, b]) await verifier.verify(token as string);
    expect(verifications()).toBe(3);
    await verifier.verify(a as string);
    expect(verifications()).toBe(4);
  });

  it('refuses a cached token once its exp has passed', async () => {
    let now = Date.now();
    const { verifier } = countingVerifier({ now: () => now });
    const token = issuer.token(userClaims, { expiresInSeconds: 60 });
    await verifier.verify(token);
    now += 59_000;
    await verifier.verify(token);
    now += 2_000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED', statusCode: 401 });
  });

  it('refuses a cached token over HTTP after its exp (no clock tolerance)', async () => {
    const app = await appFor({ clockToleranceSeconds: 0 });
    const token = issuer.token(userClaims, { expiresInSeconds: 2 });
    expect((await call(app, token)).status).toBe(200);
    expect((await call(app, token)).status).toBe(200);
    await sleep(2_100);
    expect(await call(app, token)).toEqual({ status: 401, code: 'TOKEN_EXPIRED' });
  });

  it('refuses a cached token once its key is rotated out of the JWKS', async () => {
    const cacheTtlMs = 500;
    const app = await appFor({ jwksCacheTtlMs: cacheTtlMs });
    const oldKid = issuer.currentKid;
    await issuer.rotateKey();
    const oldKeyToken = issuer.token(userClaims, { kid: oldKid });
    expect((await call(app, oldKeyToken)).status).toBe(200);
    expect((await call(app, oldKeyToken)).status).toBe(200); // from the cache

    issuer.removeKey(oldKid);
    await sleep(cacheTtlMs + 100);
    expect(await call(app, oldKeyToken)).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
  });

  it('answers 503, not a cached yes, when the JWKS is due a refetch and cannot be had', async () => {
    const cacheTtlMs = 500;
    const app = await appFor({ jwksCacheTtlMs: cacheTtlMs });
    const token = issuer.token(userClaims);
    expect((await call(app, token)).status).toBe(200);
    issuer.setJwksAvailable(false);
    await sleep(cacheTtlMs + 100);
    expect(await call(app, token)).toEqual({ status: 503, code: 'JWKS_UNAVAILABLE' });
  });
});
