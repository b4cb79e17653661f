import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { Scopes } from '@forms/contracts';
import {
  accessTokenOf,
  assertionClaims,
  clientAssertionForm,
  craftJwt,
  decodeToken,
  hmac,
  ISSUER,
  keyPairFor,
  signAssertion,
  startAuth,
  TOKEN_URL,
  type AuthHarness,
  type KeyClient,
} from '../support/auth-harness';

const { instancesRead, instancesWrite, serviceOwnerRead } = Scopes;
const GENERIC = { error: 'invalid_client', error_description: 'Client authentication failed' };
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('token endpoint: private_key_jwt (RFC 7523)', () => {
  let h: AuthHarness;
  let org: KeyClient;
  let system: KeyClient;

  beforeAll(async () => {
    h = await startAuth();
    org = await h.registerKeyClient({ clientId: 'nav-archive', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
    system = await h.registerKeyClient({ clientId: 'accounting-system', kind: 'system', partyId: '50003', scopes: [instancesRead, instancesWrite] }, 'ES256');
  });
  afterAll(() => h.close());

  const refusal = async (assertion: string, extra: Record<string, string> = {}) => {
    const response = await h.token(clientAssertionForm(assertion, extra));
    return { status: response.statusCode, body: response.json<{ error: string; error_description: string }>() };
  };

  describe('accepts', () => {
    it('an RS256 assertion with our issuer as audience', async () => {
      const response = await h.token(clientAssertionForm(await signAssertion(org)));
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const { claims } = decodeToken(accessTokenOf(response));
      expect(claims).toMatchObject({ 'urn:altinn:org': 'nav', client_id: 'nav-archive', sub: 'nav-archive', scope: serviceOwnerRead });
    });

    it('an ES256 assertion with the token endpoint URL as audience, and a matching client_id parameter', async () => {
      const assertion = await signAssertion(system, { aud: TOKEN_URL });
      const response = await h.token(clientAssertionForm(assertion, { client_id: system.clientId, scope: instancesRead }));
      expect(response.statusCode).toBe(200);
      expect(decodeToken(accessTokenOf(response)).claims).toMatchObject({
        'urn:altinn:systemid': 'accounting-system',
        'urn:altinn:partyid': '50003',
        scope: instancesRead,
      });
    });

    it('an EdDSA assertion with an audience list', async () => {
      const ed = await h.registerKeyClient({ kind: 'system', partyId: '50004', scopes: [instancesRead] }, 'EdDSA');
      const response = await h.token(clientAssertionForm(await signAssertion(ed, { aud: ['https://elsewhere', ISSUER] })));
      expect(response.statusCode).toBe(200);
    });

    it('times within the clock skew', async () => {
      const now = Math.floor(Date.now() / 1000);
      const slightlyExpired = await signAssertion(org, { iat: now - 70, exp: now - 10 });
      expect((await h.token(clientAssertionForm(slightlyExpired))).statusCode).toBe(200);
      const clockAhead = await signAssertion(org, { iat: now + 10, nbf: now + 10, exp: now + 70 });
      expect((await h.token(clientAssertionForm(clockAhead))).statusCode).toBe(200);
    });

    it('a registered PEM public key', async () => {
      const { privateKey, publicKey } = keyPairFor('RS256');
      const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const { clientId } = await h.registerClient({ kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead], publicKey: pem });
      const response = await h.token(clientAssertionForm(await signAssertion({ clientId, privateKey, alg: 'RS256' })));
      expect(response.statusCode).toBe(200);
    });

    it('the jwt-bearer grant, taking the scope from the assertion', async () => {
      const assertion = await signAssertion(system, { scope: instancesWrite });
      const response = await h.token({ grant_type: JWT_BEARER_GRANT, assertion });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ scope: instancesWrite });
    });
  });

  describe('refuses', () => {
    it('a replayed assertion', async () => {
      const assertion = await signAssertion(org);
      expect((await h.token(clientAssertionForm(assertion))).statusCode).toBe(200);
      const replay = await refusal(assertion);
      expect(replay).toEqual({ status: 401, body: { error: 'invalid_client', error_description: expect.stringContaining('used before') } });
    });

    it('the same jti twice even in different assertions', async () => {
      const jti = 'fixed-jti-1';
      expect((await h.token(clientAssertionForm(await signAssertion(org, { jti })))).statusCode).toBe(200);
      expect((await refusal(await signAssertion(org, { jti }))).status).toBe(401);
    });

    it('assertions with bad times, naming the problem', async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ iat: now - 600, exp: now - 300 }, /expired/],
        [{ exp: undefined }, /exp/],
        [{ iat: undefined }, /iat/],
        [{ iat: now, exp: now + 3600 }, /too long/],
        [{ iat: now - 3000, exp: now + 60 }, /too long/],
        [{ iat: now + 600, exp: now + 660 }, /future/],
        [{ nbf: now + 600 }, /not valid yet/],
      ];
      for (const [claims, description] of cases) {
        const result = await refusal(await signAssertion(org, claims));
        expect({ claims, status: result.status, error: result.body.error }).toEqual({ claims, status: 401, error: 'invalid_client' });
        expect(result.body.error_description).toMatch(description);
      }
    });

    it('assertions with the wrong audience, issuer, subject or no jti', async () => {
      const cases: Record<string, unknown>[] = [
        { aud: 'https://some-other-service' },
        { aud: undefined },
        { sub: 'someone-else' },
        { iss: 'someone-else' },
        { jti: undefined },
        { jti: 'x'.repeat(300) },
      ];
      for (const claims of cases) {
        const result = await refusal(await signAssertion(org, claims));
        expect({ claims, status: result.status, error: result.body.error }).toEqual({ claims, status: 401, error: 'invalid_client' });
      }
    });

    it('a client_id parameter that differs from the assertion', async () => {
      const result = await refusal(await signAssertion(org), { client_id: system.clientId });
      expect(result).toEqual({ status: 401, body: { error: 'invalid_client', error_description: expect.stringContaining('client_id') } });
    });

    it('a signature by another key, an unknown client and a secret client alike, without saying which', async () => {
      const impostor = { ...org, privateKey: keyPairFor('RS256').privateKey };
      const forged = await refusal(await signAssertion(impostor));
      const unknown = await refusal(await signAssertion({ ...org, clientId: 'no-such-client' }));
      const secretClient = await h.registerClient({ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead] });
      const noKey = await refusal(await signAssertion({ ...org, clientId: secretClient.clientId }));
      for (const result of [forged, unknown, noKey]) expect(result).toEqual({ status: 401, body: GENERIC });
    });

    it('a tampered payload', async () => {
      const [header, , signature] = (await signAssertion(org)).split('.');
      const payload = Buffer.from(JSON.stringify(assertionClaims(org.clientId, { scope: 'more' }))).toString('base64url');
      expect(await refusal(`${header}.${payload}.${signature}`)).toEqual({ status: 401, body: GENERIC });
    });

    it('alg none', async () => {
      for (const alg of ['none', 'None', 'NONE']) {
        const unsigned = craftJwt({ alg, typ: 'JWT' }, assertionClaims(org.clientId), () => '');
        const result = await refusal(unsigned);
        expect(result.status).toBe(401);
        expect(result.body).toEqual({ error: 'invalid_client', error_description: expect.stringContaining('not accepted') });
      }
    });

    it('HS256 signed with the client public key as the HMAC secret (algorithm confusion)', async () => {
      const registered = (await h.app.inject({
        method: 'GET',
        url: `/authentication/api/v1/admin/clients/${org.clientId}`,
        headers: { authorization: `Bearer ${h.config.ADMIN_API_KEY}` },
      })).json<{ publicJwk: Record<string, string> }>().publicJwk;
      const publicKey = createPublicKey({ key: registered, format: 'jwk' });
      const secrets = [
        publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        publicKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
        JSON.stringify(registered),
        Buffer.from(publicKey.export({ format: 'der', type: 'spki' })),
      ];
      for (const secret of secrets) {
        for (const alg of ['HS256', 'HS512']) {
          const forged = craftJwt({ alg, typ: 'JWT' }, assertionClaims(org.clientId), hmac(secret));
          const result = await refusal(forged);
          expect(result).toEqual({ status: 401, body: { error: 'invalid_client', error_description: expect.stringContaining(`"${alg}" is not accepted`) } });
        }
      }
    });

    it('an assertion signed with an algorithm that does not fit the key', async () => {
      // The org has an RSA key; an ES256 header must not even reach verification.
      const ecKey = keyPairFor('ES256').privateKey;
      const result = await refusal(await signAssertion({ clientId: org.clientId, privateKey: ecKey, alg: 'ES256' }));
      expect(result).toEqual({ status: 401, body: GENERIC });
    });

    it('things that are not JWTs, and a wrong client_assertion_type', async () => {
      expect((await refusal('not-a-jwt')).status).toBe(401);
      expect((await refusal('a.b.c')).status).toBe(401);
      const wrongType = await h.token({ grant_type: 'client_credentials', client_assertion_type: 'urn:example:saml', client_assertion: await signAssertion(org) });
      expect(wrongType.statusCode).toBe(400);
      expect(wrongType.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('jwt-bearer grant failures as invalid_grant', async () => {
      const expired = await signAssertion(system, { iat: 1_000, exp: 1_060 });
      const response = await h.token({ grant_type: JWT_BEARER_GRANT, assertion: expired });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: 'invalid_grant', error_description: expect.stringContaining('expired') });

      const forged = await signAssertion({ ...system, privateKey: keyPairFor('ES256').privateKey });
      const forgedResponse = await h.token({ grant_type: JWT_BEARER_GRANT, assertion: forged });
      expect(forgedResponse.json()).toEqual({ error: 'invalid_grant', error_description: 'The assertion was rejected' });

      const missing = await h.token({ grant_type: JWT_BEARER_GRANT });
      expect(missing.json()).toMatchObject({ error: 'invalid_request' });

      const escalation = await h.token({ grant_type: JWT_BEARER_GRANT, assertion: await signAssertion(system, { scope: serviceOwnerRead }) });
      expect(escalation.json()).toMatchObject({ error: 'invalid_scope' });
    });
  });
});

describe('client registration refuses key material that would weaken assertions', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth();
  });
  afterAll(() => h.close());

  const register = (publicKey: unknown) =>
    h.app.inject({
      method: 'POST',
      url: '/authentication/api/v1/admin/clients',
      headers: { authorization: `Bearer ${h.config.ADMIN_API_KEY}` },
      payload: { kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [serviceOwnerRead], publicKey },
    });

  it('refuses private keys, symmetric keys and short RSA keys', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases = [
      await exportJWK(rsa.privateKey),
      rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      { kty: 'oct', k: 'c2VjcmV0' },
      await exportJWK(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
      'not a key',
    ];
    for (const publicKey of cases) {
      const response = await register(publicKey);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: expect.stringMatching(/INVALID_PUBLIC_KEY|VALIDATION_FAILED/) });
    }
  });
});
