import type { FastifyInstance } from 'fastify';
import { Claims } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { bearer, buildApp } from './app';

let issuer: TestIssuer;
/** Default options: 30 s clock tolerance, no audience. */
let app: FastifyInstance;
/** No clock tolerance, so expiry can be tested to the second. */
let strictApp: FastifyInstance;

const userClaims = { [Claims.userId]: '1337', [Claims.partyId]: '50001' };

beforeAll(async () => {
  issuer = await TestIssuer.start();
  app = await buildApp(issuer);
  strictApp = await buildApp(issuer, { clockToleranceSeconds: 0 });
});
afterAll(async () => {
  await Promise.all([app.close(), strictApp.close()]);
  await issuer.stop();
});

async function call(headers: Record<string, string>, target: FastifyInstance = app) {
  const response = await target.inject({ method: 'GET', url: '/whoami', headers });
  return { status: response.statusCode, body: response.json() as unknown, challenge: response.headers['www-authenticate'] };
}

const rejected = (code: string) => ({ status: 401, body: { statusCode: 401, code }, challenge: expect.stringMatching(/^Bearer/) });

describe('missing or malformed credentials', () => {
  it('answers 401 UNAUTHENTICATED with a bare Bearer challenge when there is no token', async () => {
    expect(await call({})).toEqual({ ...rejected('UNAUTHENTICATED'), challenge: 'Bearer' });
  });

  it('treats another authorization scheme as no token', async () => {
    expect(await call({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual(rejected('UNAUTHENTICATED'));
  });

  it.each([['Bearer'], ['Bearer '], ['Bearer a b'], ['Bearer not-a-jwt'], ['Bearer a.b.c'], ['Bearer ....']])(
    'answers 401 INVALID_TOKEN for %j',
    async (authorization) => {
      expect(await call({ authorization })).toEqual({ ...rejected('INVALID_TOKEN'), challenge: 'Bearer error="invalid_token"' });
    },
  );

  it('accepts the scheme name in any case', async () => {
    const token = issuer.token(userClaims);
    expect((await call({ authorization: `bearer ${token}` })).status).toBe(200);
  });
});

describe('token lifetime', () => {
  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    expect(await call(bearer(issuer.token(userClaims, { expiresInSeconds: -5 })), strictApp)).toEqual(rejected('TOKEN_EXPIRED'));
  });

  it('allows expiry within the clock tolerance, not beyond it', async () => {
    expect((await call(bearer(issuer.token(userClaims, { expiresInSeconds: -5 })))).status).toBe(200);
    expect(await call(bearer(issuer.token(userClaims, { expiresInSeconds: -60 })))).toEqual(rejected('TOKEN_EXPIRED'));
  });

  it('rejects a token that is not valid yet, beyond the clock tolerance', async () => {
    expect(await call(bearer(issuer.token(userClaims, { notBeforeSeconds: 5 })), strictApp)).toEqual(rejected('INVALID_TOKEN'));
    expect(await call(bearer(issuer.token(userClaims, { notBeforeSeconds: 120 })))).toEqual(rejected('INVALID_TOKEN'));
    expect((await call(bearer(issuer.token(userClaims, { notBeforeSeconds: 5 })))).status).toBe(200);
  });

  it('rejects a token without exp', async () => {
    expect(await call(bearer(issuer.token({ ...userClaims, exp: undefined })))).toEqual(rejected('INVALID_TOKEN'));
  });
});

describe('issuer and audience', () => {
  it('rejects a token naming another issuer, even when signed with the trusted key', async () => {
    expect(await call(bearer(issuer.token({ ...userClaims, iss: 'https://evil.example' })))).toEqual(rejected('INVALID_TOKEN'));
  });

  it('rejects a token without iss', async () => {
    expect(await call(bearer(issuer.token({ ...userClaims, iss: undefined })))).toEqual(rejected('INVALID_TOKEN'));
  });

  it('rejects a token from another issuer, also when it claims to be ours', async () => {
    const stranger = await TestIssuer.start({ issuer: issuer.issuer });
    try {
      expect(await call(bearer(stranger.token(userClaims)))).toEqual(rejected('INVALID_TOKEN'));
      // A kid our issuer publishes, but signed with the stranger's key.
      expect(await call(bearer(stranger.token(userClaims, { kid: issuer.currentKid })))).toEqual(rejected('INVALID_TOKEN'));
    } finally {
      await stranger.stop();
    }
  });

  it('checks aud when an audience is configured', async () => {
    const audienceApp = await buildApp(issuer, { audience: 'forms-storage' });
    try {
      expect(await call(bearer(issuer.token(userClaims)), audienceApp)).toEqual(rejected('INVALID_TOKEN'));
      expect(await call(bearer(issuer.token({ ...userClaims, aud: 'forms-app' })), audienceApp)).toEqual(rejected('INVALID_TOKEN'));
      expect((await call(bearer(issuer.token({ ...userClaims, aud: 'forms-storage' })), audienceApp)).status).toBe(200);
      expect((await call(bearer(issuer.token({ ...userClaims, aud: ['forms-app', 'forms-storage'] })), audienceApp)).status).toBe(200);
    } finally {
      await audienceApp.close();
    }
  });

  it('ignores aud when no audience is configured', async () => {
    expect((await call(bearer(issuer.token({ ...userClaims, aud: 'anything' })))).status).toBe(200);
  });
});

describe('forged tokens', () => {
  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = issuer.userToken({ userId: 1337, partyId: 50001 }).split('.');
    const claims = { iss: issuer.issuer, exp: Math.floor(Date.now() / 1000) + 300, [Claims.userId]: '1', [Claims.partyId]: '50001' };
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(await call(bearer(tampered))).toEqual(rejected('INVALID_TOKEN'));
  });

  it('rejects an unsigned token (alg none), with or without a signature part', async () => {
    const unsigned = issuer.token(userClaims, { alg: 'none' });
    expect(await call(bearer(unsigned))).toEqual(rejected('INVALID_TOKEN'));
    const withStolenSignature = `${unsigned}${issuer.token(userClaims).split('.')[2]}`;
    expect(await call(bearer(withStolenSignature))).toEqual(rejected('INVALID_TOKEN'));
  });

  it('rejects HS256 tokens, including one signed with the public key as HMAC secret, without fetching keys', async () => {
    await call(bearer(issuer.token(userClaims))); // make sure the verifier already knows the key
    const fetchesBefore = issuer.jwksRequestCount;
    expect(issuer.publicKeyPem()).toContain('BEGIN PUBLIC KEY');
    expect(await call(bearer(issuer.token(userClaims, { alg: 'HS256' })))).toEqual(rejected('INVALID_TOKEN'));
    expect(await call(bearer(issuer.token(userClaims, { alg: 'HS256', hmacSecret: 'secret' })))).toEqual(rejected('INVALID_TOKEN'));
    expect(issuer.jwksRequestCount).toBe(fetchesBefore);
  });

  it('rejects a token without kid', async () => {
    expect(await call(bearer(issuer.token(userClaims, { kid: null })))).toEqual(rejected('INVALID_TOKEN'));
  });

  it('rejects a token with a kid the JWKS does not have', async () => {
    expect(await call(bearer(issuer.token(userClaims, { kid: 'no-such-key' })))).toEqual(rejected('INVALID_TOKEN'));
  });
});

describe('routes with auth: false', () => {
  it('are served without a token, with a null principal', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, principal: null });
  });

  it('do not look at a token, valid or not', async () => {
    for (const token of ['garbage', issuer.token(userClaims)]) {
      const response = await app.inject({ method: 'GET', url: '/health', headers: bearer(token) });
      expect(response.json()).toEqual({ ok: true, principal: null });
    }
  });
});

describe('plugin options', () => {
  it.each([
    [{ jwksUrl: 'not a url', issuer: 'x' }],
    [{ jwksUrl: 'ftp://host/jwks.json', issuer: 'x' }],
    [{ jwksUrl: 'http://host/jwks.json', issuer: '' }],
    [{ jwksUrl: 'http://host/jwks.json', issuer: 'x', clockToleranceSeconds: -1 }],
    [{ jwksUrl: 'http://host/jwks.json', issuer: 'x', jwksCacheTtlMs: 0 }],
  ])('refuses to start with %j', async (options) => {
    await expect(buildApp(issuer, options)).rejects.toThrow(/auth-plugin/);
  });
});
