import { Scopes } from '@forms/contracts';
import { basic, signAssertion, clientAssertionForm, startAuth, type AuthHarness } from '../support/auth-harness';

describe('rate limiting', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' } });
  });
  afterAll(() => h.close());

  const grant = { grant_type: 'client_credentials' };

  it('limits token requests per client id, across authentication methods, answering 429 in OAuth terms', async () => {
    const client = await h.registerClient({ clientId: 'busy', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
    const secret = client.clientSecret as string;
    expect((await h.token(grant, basic('busy', secret))).statusCode).toBe(200);
    expect((await h.token({ ...grant, client_id: 'busy', client_secret: secret })).statusCode).toBe(200);
    expect((await h.token(grant, basic('busy', 'wrong'))).statusCode).toBe(401);

    const limited = await h.token(grant, basic('busy', secret));
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringContaining('retry') });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // Another client is not affected.
    const other = await h.registerKeyClient({ clientId: 'quiet', kind: 'system', partyId: '50001', scopes: [Scopes.instancesRead] });
    expect((await h.token(clientAssertionForm(await signAssertion(other)))).statusCode).toBe(200);
  });

  it('counts requests naming no client per address', async () => {
    const statuses: number[] = [];
    // Without TRUST_PROXY a client cannot pick its address: each X-Forwarded-For differs, the count is shared.
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await h.token(grant, { 'x-forwarded-for': `198.51.100.${attempt}` })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('keys assertions by their issuer', async () => {
    const client = await h.registerKeyClient({ clientId: 'signer', kind: 'system', partyId: '50001', scopes: [Scopes.instancesRead] });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await h.token(clientAssertionForm(await signAssertion(client)))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('rate limiting behind a proxy (TRUST_PROXY=true)', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'true' } });
  });
  afterAll(() => h.close());

  it('counts requests naming no client per forwarded address, so callers behind one proxy do not share a limit', async () => {
    const grant = { grant_type: 'client_credentials' };
    const from = async (address: string) => (await h.token(grant, { 'x-forwarded-for': address })).statusCode;
    const first: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) first.push(await from('203.0.113.7'));
    expect(first).toEqual([401, 401, 401, 429]);
    // Same proxy connection (127.0.0.1), another caller: its own count.
    expect(await from('203.0.113.8')).toBe(401);
    // The client address is the nearest untrusted hop; with every hop trusted, the first one.
    expect(await from('203.0.113.7, 10.0.0.1')).toBe(429);
  });
});
