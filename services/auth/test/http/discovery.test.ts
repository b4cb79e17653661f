import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_SCOPES } from '@forms/contracts';
import { SqliteClientStore } from '../../src/adapters';
import { buildAuthService } from '../../src/app';
import { loadAuthConfig } from '../../src/config';
import { ISSUER, startAuth, type AuthHarness } from '../support/auth-harness';

describe('discovery, health and docs', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth();
  });
  afterAll(() => h.close());

  it('publishes the signing key as a JWKS without private parts', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    const { keys } = response.json<{ keys: Record<string, unknown>[] }>();
    expect(keys).toEqual([{ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: expect.any(String), alg: 'RS256', use: 'sig' }]);
  });

  it('serves OpenID and OAuth server metadata naming our endpoints', async () => {
    for (const url of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const metadata = (await h.app.inject({ method: 'GET', url })).json();
      expect(metadata).toMatchObject({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        token_endpoint: `${ISSUER}/authentication/api/v1/token`,
        grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        scopes_supported: [...ALL_SCOPES],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
      expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
    }
  });

  it('answers /health and /ready', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({ status: 'ok', checks: { clients: 'ok', signingKey: 'ok' } });
  });

  it('documents the API with OpenAPI and Swagger UI', async () => {
    const document = (await h.app.inject({ method: 'GET', url: '/authentication/swagger/json' })).json();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/authentication/api/v1/token',
        '/authentication/api/v1/testtoken',
        '/authentication/api/v1/admin/clients',
        '/authentication/api/v1/admin/keys/rotate',
        '/.well-known/jwks.json',
      ]),
    );
    expect(Object.keys(document.paths['/authentication/api/v1/token'].post.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect((await h.app.inject({ method: 'GET', url: '/authentication/swagger' })).statusCode).toBeLessThan(400);
  });

  it('reports not ready when the client store is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-ready-'));
    const store = new SqliteClientStore(dataDir);
    const app = await buildAuthService({ config: loadAuthConfig({ DATA_DIR: dataDir }), store, logger: false });
    try {
      await store.close();
      const response = await app.inject({ method: 'GET', url: '/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'unavailable', checks: { clients: expect.stringContaining('not open'), signingKey: 'ok' } });
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
