import { Scopes } from '@forms/contracts';
import { accessTokenOf, AUDIENCE, basic, decodeToken, ISSUER, startAuth, type AuthHarness } from '../support/auth-harness';

const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;

describe('token endpoint: client secrets', () => {
  let h: AuthHarness;
  let org: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    h = await startAuth();
    const registered = await h.registerClient({ clientId: 'nav-integration', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    org = { clientId: registered.clientId, clientSecret: registered.clientSecret as string };
  });
  afterAll(() => h.close());

  const grant = { grant_type: 'client_credentials' };

  it('issues an org token for client_secret_basic, with Altinn claims and the standard ones', async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await h.token(grant, basic(org.clientId, org.clientSecret));
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['pragma']).toBe('no-cache');
    const body = response.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 1800, scope: `${serviceOwnerRead} ${serviceOwnerWrite}` });

    const { header, claims } = decodeToken(body.access_token);
    const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: { kid: string }[] }>();
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0]!.kid });
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: org.clientId,
      client_id: org.clientId,
      scope: `${serviceOwnerRead} ${serviceOwnerWrite}`,
      'urn:altinn:org': 'nav',
      'urn:altinn:orgNumber': '889640782',
    });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.nbf).toBe(claims.iat);
    expect((claims.exp as number) - (claims.iat as number)).toBe(1800);
    expect(claims).not.toHaveProperty('urn:altinn:partyid');
  });

  it('issues a token for client_secret_post', async () => {
    const response = await h.token({ ...grant, client_id: org.clientId, client_secret: org.clientSecret });
    expect(response.statusCode).toBe(200);
    expect(decodeToken(accessTokenOf(response)).claims.client_id).toBe(org.clientId);
  });

  it('gives every token a new jti', async () => {
    const first = decodeToken(accessTokenOf(await h.token(grant, basic(org.clientId, org.clientSecret))));
    const second = decodeToken(accessTokenOf(await h.token(grant, basic(org.clientId, org.clientSecret))));
    expect(first.claims.jti).not.toBe(second.claims.jti);
  });

  it('grants a requested subset of the allowed scopes', async () => {
    const response = await h.token({ ...grant, scope: serviceOwnerRead }, basic(org.clientId, org.clientSecret));
    expect(response.json()).toMatchObject({ scope: serviceOwnerRead });
    expect(decodeToken(accessTokenOf(response)).claims.scope).toBe(serviceOwnerRead);
  });

  it('refuses scopes beyond the allowed ones with invalid_scope', async () => {
    const party = await h.registerClient({ kind: 'system', partyId: '50001', scopes: [instancesRead] });
    const escalation = await h.token({ ...grant, scope: `${instancesRead} ${instancesWrite}` }, basic(party.clientId, party.clientSecret as string));
    expect(escalation.statusCode).toBe(400);
    expect(escalation.json()).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining(instancesWrite) });

    const serviceOwner = await h.token({ ...grant, scope: serviceOwnerRead }, basic(party.clientId, party.clientSecret as string));
    expect(serviceOwner.json()).toMatchObject({ error: 'invalid_scope' });

    const unknown = await h.token({ ...grant, scope: 'altinn:everything' }, basic(org.clientId, org.clientSecret));
    expect(unknown.json()).toMatchObject({ error: 'invalid_scope' });

    const blank = await h.token({ ...grant, scope: '' }, basic(org.clientId, org.clientSecret));
    expect(blank.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('answers a wrong secret and an unknown client identically: 401 invalid_client with a Basic challenge', async () => {
    const wrong = await h.token(grant, basic(org.clientId, 'not-the-secret'));
    const unknown = await h.token(grant, basic('no-such-client', 'whatever'));
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(response.headers['cache-control']).toBe('no-store');
    }
    expect(wrong.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
    expect(unknown.body).toBe(wrong.body);

    const post = await h.token({ ...grant, client_id: org.clientId, client_secret: 'wrong' });
    expect(post.statusCode).toBe(401);
    expect(post.body).toBe(wrong.body);
  });

  it('refuses a key client that tries a secret, like any wrong secret', async () => {
    const keyClient = await h.registerKeyClient({ kind: 'system', partyId: '50001', scopes: [instancesRead] });
    const response = await h.token(grant, basic(keyClient.clientId, 'guess'));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
  });

  it('decodes Basic credentials as form-encoded (RFC 6749 §2.3.1)', async () => {
    const registered = await h.registerClient({ clientId: 'org:nav:reports', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
    const response = await h.token(grant, basic(registered.clientId, registered.clientSecret as string));
    expect(response.statusCode).toBe(200);
    expect(decodeToken(accessTokenOf(response)).claims.client_id).toBe('org:nav:reports');
  });

  it('needs client authentication for client_credentials', async () => {
    const none = await h.token(grant);
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'invalid_client' });
    const idOnly = await h.token({ ...grant, client_id: org.clientId });
    expect(idOnly.statusCode).toBe(401);
  });

  it('refuses malformed requests with invalid_request', async () => {
    const cases: [Record<string, string>, Record<string, string>?][] = [
      [{}], // no grant_type
      [{ ...grant, client_secret: org.clientSecret }], // secret without client_id
      [{ ...grant, client_id: org.clientId, client_secret: org.clientSecret }, basic(org.clientId, org.clientSecret)], // two methods
      [{ ...grant, client_id: 'someone-else' }, basic(org.clientId, org.clientSecret)], // client_id differs from Basic
      [{ ...grant, client_assertion: 'x.y.z' }], // assertion without its type
    ];
    for (const [form, headers] of cases) {
      const response = await h.token(form, headers);
      expect({ form, status: response.statusCode, error: response.json().error }).toEqual({ form, status: 400, error: 'invalid_request' });
    }
  });

  it('refuses a parameter sent twice', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/authentication/api/v1/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic(org.clientId, org.clientSecret) },
      payload: `grant_type=client_credentials&scope=${encodeURIComponent(serviceOwnerRead)}&scope=${encodeURIComponent(serviceOwnerWrite)}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses other grant types with unsupported_grant_type', async () => {
    for (const grantType of ['password', 'authorization_code', 'refresh_token']) {
      const response = await h.token({ grant_type: grantType, username: 'u', password: 'p' }, basic(org.clientId, org.clientSecret));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: 'unsupported_grant_type', error_description: expect.stringContaining('client_credentials') });
    }
  });

  it('refuses a body that is not form-encoded, in OAuth terms', async () => {
    const json = await h.app.inject({
      method: 'POST',
      url: '/authentication/api/v1/token',
      headers: basic(org.clientId, org.clientSecret),
      payload: { grant_type: 'client_credentials' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('x-www-form-urlencoded') });

    const none = await h.app.inject({ method: 'POST', url: '/authentication/api/v1/token' });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses an Authorization header that is not Basic credentials', async () => {
    const bearer = await h.token(grant, { authorization: 'Bearer abc' });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json()).toMatchObject({ error: 'invalid_client' });
    const noColon = await h.token(grant, { authorization: `Basic ${Buffer.from('just-an-id').toString('base64')}` });
    expect(noColon.statusCode).toBe(401);
  });

  it('stops honouring a client once it is removed', async () => {
    const temporary = await h.registerClient({ kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead] });
    expect((await h.token(grant, basic(temporary.clientId, temporary.clientSecret as string))).statusCode).toBe(200);
    const removed = await h.app.inject({
      method: 'DELETE',
      url: `/authentication/api/v1/admin/clients/${temporary.clientId}`,
      headers: { authorization: `Bearer ${h.config.ADMIN_API_KEY}` },
    });
    expect(removed.statusCode).toBe(204);
    expect((await h.token(grant, basic(temporary.clientId, temporary.clientSecret as string))).statusCode).toBe(401);
  });

  it('answers an unknown route outside OAuth with problem details', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/authentication/api/v1/token' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});
