import type { FastifyInstance } from 'fastify';
import { Claims, Scopes } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { hasScope, principalFromClaims } from '../src';
import { bearer, buildApp } from './app';

let issuer: TestIssuer;
let app: FastifyInstance;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  app = await buildApp(issuer);
});
afterAll(async () => {
  await app.close();
  await issuer.stop();
});

async function whoami(token: string) {
  const response = await app.inject({ method: 'GET', url: '/whoami', headers: bearer(token) });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('principal kinds', () => {
  it('maps a user token, turning numeric ids into strings', async () => {
    const token = issuer.userToken({ userId: 1337, partyId: 50001, authLevel: 3, scopes: [Scopes.instancesRead] });
    expect(await whoami(token)).toEqual({
      status: 200,
      body: {
        principal: { kind: 'user', userId: '1337', partyId: '50001', authLevel: 3, scopes: [Scopes.instancesRead], subject: '1337' },
      },
    });
  });

  it('defaults a missing auth level to 0 and reads a numeric-string level', async () => {
    const withoutLevel = issuer.token({ [Claims.userId]: '1', [Claims.partyId]: '2' });
    expect((await whoami(withoutLevel)).body).toMatchObject({ principal: { kind: 'user', authLevel: 0 } });
    const stringLevel = issuer.token({ [Claims.userId]: '1', [Claims.partyId]: '2', [Claims.authLevel]: '4' });
    expect((await whoami(stringLevel)).body).toMatchObject({ principal: { kind: 'user', authLevel: 4 } });
  });

  it('maps an org token, with and without an organisation number', async () => {
    const token = issuer.orgToken({ org: 'ttd', orgNumber: '991825827', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
    expect(await whoami(token)).toEqual({
      status: 200,
      body: {
        principal: {
          kind: 'org',
          org: 'ttd',
          orgNumber: '991825827',
          scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite],
          subject: 'ttd',
        },
      },
    });
    const principal = (await whoami(issuer.orgToken({ org: 'ttd' }))).body['principal'];
    expect(principal).toEqual({ kind: 'org', org: 'ttd', scopes: [], subject: 'ttd' });
  });

  it('maps a system token', async () => {
    const token = issuer.systemToken({ systemId: 'sys-accounting', partyId: 50002, scopes: [Scopes.instancesWrite] });
    expect(await whoami(token)).toEqual({
      status: 200,
      body: { principal: { kind: 'system', systemId: 'sys-accounting', partyId: '50002', scopes: [Scopes.instancesWrite], subject: 'sys-accounting' } },
    });
  });

  it('takes the subject from `sub` when present', async () => {
    const token = issuer.token({ sub: 'user:1337', [Claims.userId]: '1337', [Claims.partyId]: '50001' });
    expect((await whoami(token)).body).toMatchObject({ principal: { subject: 'user:1337', userId: '1337' } });
  });

  it.each([
    ['only standard claims', { sub: 'someone' }],
    ['a user id without party', { [Claims.userId]: '1337' }],
    ['a system id without party', { [Claims.systemId]: 'sys' }],
    ['a party without user or system', { [Claims.partyId]: '50001' }],
    ['an empty org', { [Claims.org]: '' }],
    ['an unreadable auth level', { [Claims.userId]: '1', [Claims.partyId]: '2', [Claims.authLevel]: 'high' }],
    ['a non-string scope claim', { [Claims.org]: 'ttd', scope: ['a', 'b'] }],
  ])('rejects a validly signed token with %s', async (_description, claims) => {
    expect(await whoami(issuer.token(claims))).toEqual({ status: 401, body: { statusCode: 401, code: 'INVALID_TOKEN' } });
  });
});

describe('scopes', () => {
  it('splits the scope claim on any whitespace and drops empty parts', async () => {
    const token = issuer.token({ [Claims.org]: 'ttd', scope: '  altinn:a \t altinn:b\naltinn:c ' });
    expect((await whoami(token)).body).toMatchObject({ principal: { scopes: ['altinn:a', 'altinn:b', 'altinn:c'] } });
  });

  it('gives no scopes when the claim is absent', async () => {
    expect((await whoami(issuer.userToken({ userId: 1, partyId: 2 }))).body).toMatchObject({ principal: { scopes: [] } });
  });

  it('hasScope checks exact scope names and tolerates a missing principal', () => {
    const principal = principalFromClaims({ [Claims.org]: 'ttd', scope: `${Scopes.serviceOwnerRead} other` });
    expect(hasScope(principal, Scopes.serviceOwnerRead)).toBe(true);
    expect(hasScope(principal, Scopes.serviceOwnerWrite)).toBe(false);
    expect(hasScope(principal, 'altinn:serviceowner')).toBe(false);
    expect(hasScope(null, Scopes.instancesRead)).toBe(false);
    expect(hasScope(undefined, Scopes.instancesRead)).toBe(false);
  });
});

describe('principalFromClaims', () => {
  it('prefers org over user over system when several shapes are present', () => {
    expect(principalFromClaims({ [Claims.org]: 'ttd', [Claims.userId]: '1', [Claims.partyId]: '2' })?.kind).toBe('org');
    expect(principalFromClaims({ [Claims.systemId]: 's', [Claims.userId]: '1', [Claims.partyId]: '2' })?.kind).toBe('user');
  });

  it('rejects ids that are not whole numbers or non-empty strings', () => {
    expect(principalFromClaims({ [Claims.userId]: 1.5, [Claims.partyId]: '2' })).toBeNull();
    expect(principalFromClaims({ [Claims.userId]: '1', [Claims.partyId]: { id: 2 } })).toBeNull();
  });
});
