/**
 * An app service's own token beside a party's (accessTokenHeader): both verified alike, the party acting through
 * the app (`via`), an org limited to its app, anything else refused.
 */
import type { FastifyInstance } from 'fastify';
import { Claims, Scopes } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { principalFromClaims } from '../src';
import { bearer, buildApp } from './app';

const HEADER = 'platformaccesstoken';
let issuer: TestIssuer;
let app: FastifyInstance;
let withoutHeader: FastifyInstance;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  app = await buildApp(issuer, { accessTokenHeader: 'PlatformAccessToken' });
  withoutHeader = await buildApp(issuer);
});
afterAll(async () => {
  await app.close();
  await withoutHeader.close();
  await issuer.stop();
});

const person = () => issuer.userToken({ userId: 1001, partyId: 50001, scopes: [Scopes.instancesWrite] });
const whoami = (target: FastifyInstance, headers: Record<string, string>) => target.inject({ method: 'GET', url: '/whoami', headers });

describe('an app acting for a party', () => {
  it("makes the party's principal name the app it acts through", async () => {
    const response = await whoami(app, { ...bearer(person()), [HEADER]: issuer.appToken({ app: 'nav/child-benefit' }) });
    expect(response.json().principal).toMatchObject({ kind: 'user', partyId: '50001', via: 'nav/child-benefit' });
    const alone = await whoami(app, bearer(person()));
    expect(alone.json().principal).not.toHaveProperty('via');
  });

  it('limits an org to the app, but only its own org’s app', async () => {
    const nav = issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead] });
    const own = await whoami(app, { ...bearer(nav), [HEADER]: issuer.appToken({ app: 'nav/child-benefit' }) });
    expect(own.json().principal).toMatchObject({ kind: 'org', org: 'nav', app: 'nav/child-benefit' });
    const foreign = await whoami(app, { ...bearer(nav), [HEADER]: issuer.appToken({ app: 'skd/tax-return' }) });
    expect([foreign.statusCode, foreign.json().code]).toEqual([401, 'INVALID_TOKEN']);
  });

  it('refuses a header token that is no app token, is expired or is not ours', async () => {
    const other = await TestIssuer.start();
    try {
      for (const token of [
        person(),
        issuer.orgToken({ org: 'nav' }),
        issuer.appToken({ app: 'nav/child-benefit' }, { expiresInSeconds: -120 }),
        other.appToken({ app: 'nav/child-benefit' }),
        'not-a-token',
      ]) {
        const response = await whoami(app, { ...bearer(person()), [HEADER]: token });
        expect([response.statusCode, response.json().code]).toEqual([401, expect.stringMatching(/^(INVALID_TOKEN|TOKEN_EXPIRED)$/)]);
      }
    } finally {
      await other.stop();
    }
  });

  it('ignores the header where the option is off (the app service itself)', async () => {
    const response = await whoami(withoutHeader, { ...bearer(person()), [HEADER]: 'anything' });
    expect(response.json().principal).not.toHaveProperty('via');
  });

  it("reads an app claim only for an app of the token's own org", () => {
    expect(principalFromClaims({ [Claims.org]: 'nav', [Claims.app]: 'nav/child-benefit' })).toMatchObject({ app: 'nav/child-benefit' });
    expect(principalFromClaims({ [Claims.org]: 'nav', [Claims.app]: 'skd/tax-return' })).toBeNull();
    expect(principalFromClaims({ [Claims.org]: 'nav', [Claims.app]: 'nav/' })).toBeNull();
    expect(principalFromClaims({ [Claims.org]: 'nav', [Claims.app]: 42 })).toBeNull();
  });
});
