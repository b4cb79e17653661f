import { generateKeyPairSync, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Scopes, type Instance } from '@forms/contracts';
import { API, SAMPLE_APP, startStorage, type StorageHarness } from '../../../storage/test/support/storage-harness';
import {
  accessTokenOf,
  AUDIENCE,
  basic,
  clientAssertionForm,
  craftJwt,
  decodeToken,
  hmac,
  ISSUER,
  signAssertion,
  startAuth,
  startVerifier,
  whoami,
  type AuthHarness,
} from '../support/auth-harness';

const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const grant = { grant_type: 'client_credentials' };

/** The token service on a real port, and the storage service trusting it through its JWKS. */
describe('tokens from the token service at the storage service', () => {
  let auth: AuthHarness;
  let storage: StorageHarness;
  let verifier: FastifyInstance;
  let orgToken: string;
  let appToken: string;

  beforeAll(async () => {
    auth = await startAuth({ listen: true });
    storage = await startStorage('embedded', {
      JWKS_URL: `${auth.url}/.well-known/jwks.json`,
      TOKEN_ISSUER: ISSUER,
      TOKEN_AUDIENCE: AUDIENCE,
    });
    verifier = await startVerifier(auth.url);
    const nav = await auth.registerClient({ clientId: 'nav-forms', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    orgToken = accessTokenOf(await auth.token(grant, basic(nav.clientId, nav.clientSecret as string)));
    const registered = await storage.app.inject({ method: 'POST', url: `${API}/applications/nav/child-benefit`, headers: bearer(orgToken), payload: SAMPLE_APP });
    expect(registered.statusCode).toBe(201);
    // The app service's own client: an org client for one app, whose tokens name it.
    const app = await auth.registerClient({ clientId: 'nav-child-benefit', kind: 'org', org: 'nav', orgNumber: '889640782', app: 'nav/child-benefit', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    appToken = accessTokenOf(await auth.token(grant, basic(app.clientId, app.clientSecret as string)));
  });
  afterAll(async () => {
    await verifier.close();
    await storage.close();
    await auth.close();
  });

  /** As the app service asks storage: the party's token, and the app's own beside it. */
  const createInstance = (token: string, partyId: string, withApp = true) =>
    storage.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/child-benefit`,
      headers: { ...bearer(token), ...(withApp && { platformaccesstoken: appToken }) },
      payload: { instanceOwner: { partyId } },
    });

  it('turns each kind of client into the principal the platform expects', async () => {
    const system = await auth.registerKeyClient({ clientId: 'ledger', kind: 'system', partyId: '50003', scopes: [instancesRead] }, 'ES256');
    const userBound = await auth.registerClient({ clientId: 'tax-app', kind: 'system', partyId: '50001', userId: '1001', authLevel: 3, scopes: [instancesRead] });
    const systemToken = accessTokenOf(await auth.token(clientAssertionForm(await signAssertion(system))));
    const userToken = accessTokenOf(await auth.token(grant, basic(userBound.clientId, userBound.clientSecret as string)));

    expect((await whoami(verifier, orgToken)).json().principal).toEqual({
      kind: 'org',
      org: 'nav',
      orgNumber: '889640782',
      scopes: [serviceOwnerRead, serviceOwnerWrite],
      subject: 'nav-forms',
    });
    expect((await whoami(verifier, appToken)).json().principal).toMatchObject({ kind: 'org', org: 'nav', app: 'nav/child-benefit', subject: 'nav-child-benefit' });
    expect((await whoami(verifier, systemToken)).json().principal).toEqual({
      kind: 'system',
      systemId: 'ledger',
      partyId: '50003',
      scopes: [instancesRead],
      subject: 'ledger',
    });
    expect((await whoami(verifier, userToken)).json().principal).toEqual({
      kind: 'user',
      userId: '1001',
      partyId: '50001',
      authLevel: 3,
      scopes: [instancesRead],
      subject: 'tax-app',
    });
  });

  it('lets a person (test token) and an end-user system (private_key_jwt) create instances for their parties, and the org list them', async () => {
    const person = (await auth.app.inject({ method: 'POST', url: '/authentication/api/v1/testtoken', payload: { userId: '1001', partyId: '50001' } })).json().access_token;
    const mine = await createInstance(person, '50001');
    expect(mine.statusCode).toBe(201);
    // Not by the person alone: the app's rules would be skipped.
    expect((await createInstance(person, '50001', false)).json()).toMatchObject({ status: 403, code: 'APP_REQUIRED' });
    expect(mine.json<Instance>().instanceOwner.partyId).toBe('50001');
    // Not for another party.
    expect((await createInstance(person, '50002')).statusCode).toBe(403);

    const system = await auth.registerKeyClient({ clientId: 'accounting', kind: 'system', partyId: '50003', scopes: [instancesRead, instancesWrite] });
    const systemToken = accessTokenOf(await auth.token(clientAssertionForm(await signAssertion(system))));
    expect((await createInstance(systemToken, '50003')).statusCode).toBe(201);

    const listed = await storage.app.inject({ method: 'GET', url: `${API}/instances?appId=nav/child-benefit`, headers: bearer(orgToken) });
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ instances: Instance[] }>().instances.map((instance) => instance.instanceOwner.partyId).sort()).toEqual(['50001', '50003']);

    // A read-only party token cannot write.
    const readOnly = (await auth.app.inject({ method: 'POST', url: '/authentication/api/v1/testtoken', payload: { userId: '1001', partyId: '50001', scopes: [instancesRead] } })).json().access_token;
    expect((await createInstance(readOnly, '50001')).statusCode).toBe(403);
  });

  it('refuses tampered and forged tokens with 401', async () => {
    const { header, claims } = decodeToken(orgToken);
    const [encodedHeader, , signature] = orgToken.split('.');
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const otherOrg = `${encodedHeader}.${encode({ ...claims, 'urn:altinn:org': 'skd' })}.${signature}`;
    const longer = `${encodedHeader}.${encode({ ...claims, exp: (claims.exp as number) + 86_400 })}.${signature}`;
    const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const sameKidOtherKey = craftJwt(header, claims, (input) => sign('sha256', Buffer.from(input), foreignKey).toString('base64url'));
    const unknownKid = craftJwt({ ...header, kid: 'not-ours' }, claims, (input) => sign('sha256', Buffer.from(input), foreignKey).toString('base64url'));
    const jwks = (await auth.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: object[] }>();
    const confusion = craftJwt({ ...header, alg: 'HS256' }, claims, hmac(JSON.stringify(jwks.keys[0])));
    const unsigned = craftJwt({ ...header, alg: 'none' }, claims, () => '');

    for (const forged of [otherOrg, longer, sameKidOtherKey, unknownKid, confusion, unsigned]) {
      const response = await storage.app.inject({ method: 'GET', url: `${API}/instances?appId=nav/child-benefit`, headers: bearer(forged) });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'INVALID_TOKEN' });
    }
    // The untampered token still works.
    expect((await storage.app.inject({ method: 'GET', url: `${API}/instances?appId=nav/child-benefit`, headers: bearer(orgToken) })).statusCode).toBe(200);
  });

  it('is refused by a verifier that expects another audience', async () => {
    const strict = await startVerifier(auth.url, 'some-other-platform');
    try {
      expect((await whoami(strict, orgToken)).statusCode).toBe(401);
    } finally {
      await strict.close();
    }
  });
});
