/**
 * The whole platform over real HTTP: the token service issues the tokens, the app service applies the
 * rules of skd/tax-return, storage keeps everything. An accounting system files a tax return from start to
 * end; then skd's integration collects it, confirms the download, and no longer sees it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Scopes, type DataElement, type Instance } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { AUDIENCE, ISSUER, keyPairFor, signAssertion, startAuth, type AuthHarness } from '../../auth/test/support/auth-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { PDF } from './support/fixtures';

const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;

describe.each(['embedded', 'mongo-s3'] as const)('with storage on %s adapters', (adapters) => {
  let auth: AuthHarness;
  let h: AppHarness;
  let appUrl: string;
  let storageUrl: string;

  /** A token from the token service over HTTP, as a client with a secret asks for it. */
  async function tokenWithSecret(clientId: string, secret: string, scope: string): Promise<string> {
    const response = await fetch(`${auth.url}/authentication/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  beforeAll(async () => {
    auth = await startAuth({ listen: true });
    // The app service's own client: an org client for the one app, whose tokens name it.
    const appClient = await auth.registerClient({
      clientId: 'skd-tax-return',
      kind: 'org',
      org: 'skd',
      orgNumber: '974761076',
      app: 'skd/tax-return',
      scopes: [serviceOwnerRead, serviceOwnerWrite],
    });
    const appToken = await tokenWithSecret(appClient.clientId, appClient.clientSecret as string, `${serviceOwnerRead} ${serviceOwnerWrite}`);
    h = await startApp('skd/tax-return', {
      adapters,
      storageEnv: { JWKS_URL: `${auth.url}/.well-known/jwks.json`, TOKEN_ISSUER: ISSUER, TOKEN_AUDIENCE: AUDIENCE },
      appToken,
    });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    appUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/skd/tax-return`;
    storageUrl = h.storageUrl;
  });
  afterAll(async () => {
    await h.close();
    await auth.close();
  });

  async function call(url: string, token: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
    const response = await fetch(url, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${token}`, ...init.headers }, body: init.body });
    const contentType = response.headers.get('content-type') ?? '';
    const body = contentType.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    // `any`: each test checks the fields it cares about, whatever the response.
    return { status: response.status, body: body as any, headers: response.headers };
  }

  test('a system files a tax return; skd collects it and confirms the download', async () => {
    // 1. The accounting system authenticates with a signed assertion (private_key_jwt).
    const { privateKey, publicKey } = keyPairFor('RS256');
    const { clientId } = await auth.registerClient({
      clientId: 'accounting-system',
      kind: 'system',
      partyId: SYSTEM_PARTY,
      scopes: [instancesRead, instancesWrite],
      publicKey: publicKey.export({ format: 'jwk' }),
    });
    const assertion = await signAssertion({ clientId, privateKey, alg: 'RS256' });
    const tokenResponse = await fetch(`${auth.url}/authentication/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    expect(tokenResponse.status).toBe(200);
    const system = ((await tokenResponse.json()) as { access_token: string }).access_token;

    // 2. It creates an instance; the form is prefilled and calculated.
    const created = await call(`${appUrl}/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`, system, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instanceOwner: { organisationNumber: '910000001' } }),
    });
    expect(created.status).toBe(201);
    const instance = created.body as Instance;
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const formUrl = `${appUrl}/instances/${instance.id}/data/${form.id}`;

    // 3. XML form data with deductions above the income: saved (it fits the model) and calculated.
    const xml = await call(formUrl, system, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<TaxReturn><income>300000</income><deductions><description>Car</description><amount>400000</amount></deductions></TaxReturn>',
    });
    expect(xml.status).toBe(200);
    expect(xml.body.changedFields).toEqual({ taxableIncome: 0, tax: 0 });

    // 4. A receipt, streamed through to storage.
    const receipt = await call(`${appUrl}/instances/${instance.id}/data?dataType=receipt`, system, {
      method: 'POST',
      headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="car.pdf"' },
      body: PDF,
    });
    expect(receipt.status).toBe(201);

    // 5. Validation fails, so the task cannot be completed ...
    const blocked = await call(`${appUrl}/instances/${instance.id}/process/next`, system, { method: 'PUT' });
    expect(blocked.status).toBe(409);
    expect(blocked.body.validationIssues.map((i: { code: string }) => i.code)).toEqual(['DeductionsExceedIncome']);

    // 6. ... until JSON form data fixes it; the calculated tax comes back.
    const fixed = await call(formUrl, system, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'if-match': xml.headers.get('etag') as string },
      body: JSON.stringify({ income: 300_000, deductions: [{ description: 'Car', amount: 40_000 }] }),
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.changedFields).toEqual({ taxableIncome: 260_000, tax: 57_200 });

    // 7. Through the confirmation task to the end.
    const confirmation = await call(`${appUrl}/instances/${instance.id}/process/next`, system, { method: 'PUT' });
    expect(confirmation.body.currentTask.altinnTaskType).toBe('confirmation');
    const ended = await call(`${appUrl}/instances/${instance.id}/process/next`, system, { method: 'PUT' });
    expect(ended.status).toBe(200);
    expect(ended.body.endEvent).toBe('EndEvent_1');

    // 8. skd's integration queries storage for completed tax returns it has not confirmed yet.
    const skd = await auth.registerClient({ clientId: 'skd-collector', kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead, serviceOwnerWrite] });
    const skdToken = await tokenWithSecret(skd.clientId, skd.clientSecret as string, `${serviceOwnerRead} ${serviceOwnerWrite}`);
    const queryUrl = `${storageUrl}/instances?appId=skd/tax-return&process.isComplete=true&excludeConfirmedBy=skd`;
    const pending = await call(queryUrl, skdToken);
    expect(pending.status).toBe(200);
    const collected = (pending.body.instances as Instance[]).find((i) => i.id === instance.id) as Instance;
    expect(collected.data.map((d) => d.dataType).sort()).toEqual(['model', 'receipt']);

    // 9. It downloads every data element, checks it against the recorded hash, and confirms.
    for (const element of collected.data) {
      const download = await call(`${storageUrl}/instances/${instance.id}/data/${element.id}`, skdToken);
      expect(download.status).toBe(200);
      const bytes = Buffer.isBuffer(download.body) ? download.body : Buffer.from(JSON.stringify(download.body));
      if (element.dataType === 'receipt') expect(createHash('sha256').update(bytes).digest('hex')).toBe(element.contentHash);
      else expect(download.body).toMatchObject({ income: 300_000, tax: 57_200 });
    }
    // Confirmed through the app, as an Altinn integration does (the app passes it on to storage).
    const confirmed = await call(`${appUrl}/instances/${instance.id}/complete`, skdToken, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.completeConfirmations).toEqual([expect.objectContaining({ stakeholderId: 'skd' })]);

    // 10. The next collection run no longer sees it.
    const after = await call(queryUrl, skdToken);
    expect((after.body.instances as Instance[]).map((i) => i.id)).not.toContain(instance.id);
  });

  test('a token that was tampered with is refused by the app service and by storage', async () => {
    const skd = await auth.registerClient({ clientId: 'skd-tamper', kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead] });
    const token = await tokenWithSecret(skd.clientId, skd.clientSecret as string, serviceOwnerRead);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, 'urn:altinn:org': 'nav' })).toString('base64url')}.${signature}`;
    expect((await call(`${storageUrl}/instances?org=nav`, forged)).status).toBe(401);
    expect((await call(`${appUrl}/instances/${SYSTEM_PARTY}/${randomUUID()}`, forged)).status).toBe(401);
    // The untampered token still works.
    expect((await call(`${storageUrl}/instances?org=skd`, token)).status).toBe(200);
  });
});
