import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Claims } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { bearer, buildApp, sleep } from './app';

const userClaims = { [Claims.userId]: '1337', [Claims.partyId]: '50001' };

let issuer: TestIssuer;
const openApps: FastifyInstance[] = [];

async function appFor(target: TestIssuer, options: Parameters<typeof buildApp>[1] = {}): Promise<FastifyInstance> {
  const app = await buildApp(target, options);
  openApps.push(app);
  return app;
}

async function call(app: FastifyInstance, token: string) {
  const response = await app.inject({ method: 'GET', url: '/whoami', headers: bearer(token) });
  return { status: response.statusCode, body: response.json() as unknown, challenge: response.headers['www-authenticate'] };
}

beforeEach(async () => {
  issuer = await TestIssuer.start();
});
afterEach(async () => {
  await Promise.all(openApps.splice(0).map((app) => app.close()));
  await issuer.stop();
});

describe('key cache', () => {
  it('fetches the JWKS once for many requests with the same key', async () => {
    const app = await appFor(issuer);
    for (let i = 0; i < 5; i++) expect((await call(app, issuer.token(userClaims))).status).toBe(200);
    expect(issuer.jwksRequestCount).toBe(1);
  });
});

describe('key rotation', () => {
  it('accepts a token signed by a newly added key without restarting, and keeps accepting the old key', async () => {
    const app = await appFor(issuer);
    const oldKid = issuer.currentKid;
    expect((await call(app, issuer.token(userClaims))).status).toBe(200); // old key is now cached

    const newKid = await issuer.rotateKey();
    expect(newKid).not.toBe(oldKid);
    expect(issuer.kids).toEqual([oldKid, newKid]);
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
    expect((await call(app, issuer.token(userClaims, { kid: oldKid }))).status).toBe(200);
    expect(issuer.jwksRequestCount).toBe(2);
  });

  it('stops accepting a removed key once its cache entry expires', async () => {
    const cacheTtlMs = 1_000;
    const app = await appFor(issuer, { jwksCacheTtlMs: cacheTtlMs });
    const oldKid = issuer.currentKid;
    await issuer.rotateKey(); // before anything is cached: key generation is slow enough to eat into the TTL
    const oldKeyToken = issuer.token(userClaims, { kid: oldKid });
    expect((await call(app, oldKeyToken)).status).toBe(200);

    issuer.removeKey(oldKid);
    expect((await call(app, oldKeyToken)).status).toBe(200); // still cached
    await sleep(cacheTtlMs + 200);
    expect(await call(app, oldKeyToken)).toEqual({ status: 401, body: { statusCode: 401, code: 'INVALID_TOKEN' }, challenge: expect.stringMatching(/^Bearer/) });
    // Stays rejected: the expired copy must not come back as a fallback.
    expect((await call(app, oldKeyToken)).status).toBe(401);
    expect((await call(app, issuer.token(userClaims))).status).toBe(200);
  });
});

describe('JWKS unavailable', () => {
  it('answers 503 JWKS_UNAVAILABLE when the JWKS server is down', async () => {
    const app = await appFor(issuer);
    const token = issuer.token(userClaims);
    await issuer.stop();
    const result = await call(app, token);
    expect(result).toEqual({ status: 503, body: { statusCode: 503, code: 'JWKS_UNAVAILABLE' }, challenge: undefined });
    issuer = await TestIssuer.start(); // for afterEach
  });

  it('answers 503 while the JWKS endpoint fails, and recovers when it is back', async () => {
    const app = await appFor(issuer);
    issuer.setJwksAvailable(false);
    const token = issuer.token(userClaims);
    expect((await call(app, token)).body).toEqual({ statusCode: 503, code: 'JWKS_UNAVAILABLE' });
    issuer.setJwksAvailable(true);
    expect((await call(app, token)).status).toBe(200);
  });

  it('answers 503 when the JWKS server does not respond in time', async () => {
    const silent: Server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const app = await buildApp(issuer, { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, jwksTimeoutMs: 200 });
      openApps.push(app);
      const startedAt = Date.now();
      expect((await call(app, issuer.token(userClaims))).body).toEqual({ statusCode: 503, code: 'JWKS_UNAVAILABLE' });
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('does not reach the JWKS for routes with auth: false', async () => {
    const app = await appFor(issuer);
    await issuer.stop();
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    issuer = await TestIssuer.start();
  });
});
