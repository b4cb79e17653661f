import { Scopes } from '@forms/contracts';
import { decodeToken, startAuth, type AuthHarness } from '../support/auth-harness';

const URL = '/authentication/api/v1/testtoken';
const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;

describe('test tokens', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth({ env: { TOKEN_LIFETIME_SECONDS: '600' } });
  });
  afterAll(() => h.close());

  const mint = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: URL, payload });

  it('mints a person token with the party scopes and auth level 2 by default', async () => {
    const response = await mint({ userId: '1001', partyId: '50001' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: `${instancesRead} ${instancesWrite}` });
    const { claims } = decodeToken(response.json().access_token);
    expect(claims).toMatchObject({
      'urn:altinn:userid': '1001',
      'urn:altinn:partyid': '50001',
      'urn:altinn:authlevel': 2,
      sub: '1001',
      iss: h.config.ISSUER,
      aud: h.config.AUDIENCE,
    });
    expect(claims).not.toHaveProperty('client_id');
  });

  it('mints an org token with service-owner scopes by default', async () => {
    const response = await mint({ org: 'nav', orgNumber: '889640782' });
    expect(response.statusCode).toBe(200);
    expect(decodeToken(response.json().access_token).claims).toMatchObject({
      'urn:altinn:org': 'nav',
      'urn:altinn:orgNumber': '889640782',
      scope: `${serviceOwnerRead} ${serviceOwnerWrite}`,
    });
  });

  it("mints an app service's own token (naming the app), only for an app of the org", async () => {
    const response = await mint({ org: 'nav', app: 'nav/child-benefit' });
    expect(response.statusCode).toBe(200);
    expect(decodeToken(response.json().access_token).claims).toMatchObject({ 'urn:altinn:org': 'nav', 'urn:altinn:app': 'nav/child-benefit' });
    const foreign = await mint({ org: 'nav', app: 'skd/tax-return' });
    expect([foreign.statusCode, foreign.json().code]).toEqual([400, 'INVALID_APP']);
  });

  it('mints an end-user system token', async () => {
    const response = await mint({ systemId: 'accounting', partyId: '50003', scopes: [instancesRead] });
    expect(decodeToken(response.json().access_token).claims).toMatchObject({
      'urn:altinn:systemid': 'accounting',
      'urn:altinn:partyid': '50003',
      scope: instancesRead,
    });
  });

  it('honours the requested scopes, auth level and a shorter lifetime, never a longer one', async () => {
    const short = await mint({ userId: '1001', partyId: '50001', authLevel: 3, scopes: [instancesRead], expiresInSeconds: 60 });
    expect(short.json()).toMatchObject({ expires_in: 60, scope: instancesRead });
    expect(decodeToken(short.json().access_token).claims['urn:altinn:authlevel']).toBe(3);
    const long = await mint({ org: 'nav', expiresInSeconds: 86_400 });
    expect(long.json().expires_in).toBe(600);
  });

  it('refuses service-owner scopes for a person, as problem details', async () => {
    const response = await mint({ userId: '1001', partyId: '50001', scopes: [serviceOwnerWrite] });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 400, code: 'INVALID_SCOPE' });
  });

  it('validates the body against its schema', async () => {
    const cases = [
      {},
      { userId: '1001' },
      { userId: '1001', partyId: '50001', org: 'nav' },
      { userId: 'abc', partyId: '50001' },
      { org: 'NAV!' },
      { org: 'nav', scopes: ['altinn:everything'] },
      { userId: '1001', partyId: '50001', authLevel: 9 },
    ];
    for (const payload of cases) {
      const response = await mint(payload);
      expect({ payload, status: response.statusCode, code: response.json().code }).toEqual({ payload, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});

describe('test tokens when disabled', () => {
  it('are not even routed: 404', async () => {
    const h = await startAuth({ env: { TEST_TOKENS_ENABLED: 'false' } });
    try {
      const response = await h.app.inject({ method: 'POST', url: URL, payload: { org: 'nav' } });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    } finally {
      await h.close();
    }
  });
});
