import { Scopes } from '@forms/contracts';
import { ADMIN_KEY, adminHeaders, basic, startAuth, type AuthHarness } from '../support/auth-harness';

const ADMIN = '/authentication/api/v1/admin';
const { instancesRead, instancesWrite, serviceOwnerRead } = Scopes;

describe('admin API', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth();
  });
  afterAll(() => h.close());

  const post = (payload: Record<string, unknown>, headers: Record<string, string> = adminHeaders) =>
    h.app.inject({ method: 'POST', url: `${ADMIN}/clients`, headers, payload });

  it('needs the admin key, as a bearer token or X-Api-Key', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-key-wrong-key' }, { 'x-api-key': 'wrong' }, { authorization: `Basic ${ADMIN_KEY}` }]) {
      const response = await h.app.inject({ method: 'GET', url: `${ADMIN}/clients`, headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="admin"');
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ code: 'ADMIN_API_KEY_REQUIRED' });
    }
    expect((await h.app.inject({ method: 'GET', url: `${ADMIN}/clients`, headers: { 'x-api-key': ADMIN_KEY } })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: { authorization: 'Bearer nope-nope-nope' } })).statusCode).toBe(401);
  });

  it('registers a secret client, shows the secret once and never its hash', async () => {
    const response = await post({ clientId: 'nav-reports', name: 'NAV reports', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toEqual({
      client: {
        clientId: 'nav-reports',
        name: 'NAV reports',
        subject: { kind: 'org', org: 'nav', orgNumber: '889640782' },
        scopes: [serviceOwnerRead],
        authMethod: 'client_secret',
        createdAt: expect.any(String),
      },
      clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const read = await h.app.inject({ method: 'GET', url: `${ADMIN}/clients/nav-reports`, headers: adminHeaders });
    expect(read.json()).toEqual(body.client);
    expect(read.body).not.toContain(body.clientSecret);
    expect(read.body).not.toContain('scrypt');
    // The secret works.
    expect((await h.token({ grant_type: 'client_credentials' }, basic('nav-reports', body.clientSecret))).statusCode).toBe(200);
  });

  it('generates a client id when none is given, and maps system kinds to the principals verifiers know', async () => {
    const system = (await post({ kind: 'system', partyId: '50001', scopes: [instancesRead] })).json();
    expect(system.client.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(system.client.subject).toEqual({ kind: 'system', systemId: system.client.clientId, partyId: '50001' });

    const named = (await post({ kind: 'system', partyId: '50001', systemId: 'ledger', scopes: [instancesRead] })).json();
    expect(named.client.subject).toEqual({ kind: 'system', systemId: 'ledger', partyId: '50001' });

    const userBound = (await post({ kind: 'system', partyId: '50001', userId: '1001', authLevel: 2, scopes: [instancesRead, instancesWrite] })).json();
    expect(userBound.client.subject).toEqual({ kind: 'user', userId: '1001', partyId: '50001', authLevel: 2 });

    const user = (await post({ kind: 'user', partyId: '50001', userId: '1001', scopes: [instancesRead] })).json();
    expect(user.client.subject).toEqual({ kind: 'user', userId: '1001', partyId: '50001', authLevel: 0 });
  });

  it('lists clients in id order and removes them', async () => {
    await post({ clientId: 'zz-last', kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead] });
    await post({ clientId: '00-first', kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead] });
    const list = (await h.app.inject({ method: 'GET', url: `${ADMIN}/clients`, headers: adminHeaders })).json<{ clients: { clientId: string }[] }>();
    const ids = list.clients.map((client) => client.clientId);
    expect(ids[0]).toBe('00-first');
    expect(ids[ids.length - 1]).toBe('zz-last');
    expect(ids).toEqual([...ids].sort());

    expect((await h.app.inject({ method: 'DELETE', url: `${ADMIN}/clients/zz-last`, headers: adminHeaders })).statusCode).toBe(204);
    const again = await h.app.inject({ method: 'DELETE', url: `${ADMIN}/clients/zz-last`, headers: adminHeaders });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ code: 'CLIENT_NOT_FOUND' });
    expect((await h.app.inject({ method: 'GET', url: `${ADMIN}/clients/zz-last`, headers: adminHeaders })).statusCode).toBe(404);
  });

  it('refuses a taken client id with 409', async () => {
    await post({ clientId: 'taken', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
    const response = await post({ clientId: 'taken', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'CLIENT_EXISTS' });
  });

  it('refuses registrations that do not add up', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'system', partyId: '50001', scopes: [serviceOwnerRead] }, 'INVALID_SCOPES'],
      [{ kind: 'org', org: 'nav', scopes: [serviceOwnerRead] }, 'INVALID_CLIENT'],
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', partyId: '50001', scopes: [serviceOwnerRead] }, 'INVALID_CLIENT'],
      [{ kind: 'system', scopes: [instancesRead] }, 'INVALID_CLIENT'],
      [{ kind: 'user', partyId: '50001', scopes: [instancesRead] }, 'INVALID_CLIENT'],
      [{ kind: 'system', partyId: '50001', authLevel: 2, scopes: [instancesRead] }, 'INVALID_CLIENT'],
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [] }, 'VALIDATION_FAILED'],
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: ['altinn:everything'] }, 'VALIDATION_FAILED'],
      [{ kind: 'robot', scopes: [instancesRead] }, 'VALIDATION_FAILED'],
      [{ clientId: 'has spaces', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] }, 'VALIDATION_FAILED'],
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead], clientSecret: 'chosen' }, 'VALIDATION_FAILED'],
      // An app service's own client is for an app of its own org only, and only an org client can be one.
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', app: 'skd/tax-return', scopes: [serviceOwnerRead] }, 'INVALID_CLIENT'],
      [{ kind: 'org', org: 'nav', orgNumber: '889640782', app: 'nav', scopes: [serviceOwnerRead] }, 'VALIDATION_FAILED'],
      [{ kind: 'system', partyId: '50001', app: 'nav/child-benefit', scopes: [instancesRead] }, 'INVALID_CLIENT'],
    ];
    for (const [payload, code] of cases) {
      const response = await post(payload);
      expect({ payload, status: response.statusCode, code: response.json().code }).toEqual({ payload, status: 400, code });
    }
  });

  it('lists and rotates the signing keys', async () => {
    const before = (await h.app.inject({ method: 'GET', url: `${ADMIN}/keys`, headers: adminHeaders })).json();
    expect(before).toEqual({ rotatable: true, keys: [expect.objectContaining({ status: 'active' })] });
    const rotated = await h.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: adminHeaders });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json()).toEqual({ kid: expect.any(String), retiredKid: before.keys[0].kid, verifyUntil: expect.any(String) });
    const after = (await h.app.inject({ method: 'GET', url: `${ADMIN}/keys`, headers: adminHeaders })).json();
    expect(after.keys.map((key: { kid: string; status: string }) => [key.kid, key.status])).toEqual([
      [before.keys[0].kid, 'retired'],
      [rotated.json().kid, 'active'],
    ]);
  });
});

describe('admin API without ADMIN_API_KEY', () => {
  it('is not routed at all', async () => {
    const h = await startAuth({ env: { ADMIN_API_KEY: '' } });
    try {
      for (const [method, url] of [['GET', `${ADMIN}/clients`], ['POST', `${ADMIN}/clients`], ['POST', `${ADMIN}/keys/rotate`]] as const) {
        const response = await h.app.inject({ method, url, headers: { authorization: 'Bearer ' } });
        expect(response.statusCode).toBe(404);
      }
    } finally {
      await h.close();
    }
  });
});
