import { Scopes } from '@forms/contracts';
import { API, OWNER_PARTY, bearer, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';

let h: StorageHarness;
beforeAll(async () => {
  h = await startStorage('embedded', { MAX_JSON_BODY_KB: '8' });
  await registerApp(h);
});
afterAll(() => h.close());

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('errors are problem details with stable codes', () => {
  const create = (payload: string, headers: Record<string, string>) =>
    h.app.inject({ method: 'POST', url: `${API}/instances?appId=nav/sample-app`, headers: { ...h.auth.owner, ...headers }, payload });

  it.each([
    ['malformed JSON', '{"instanceOwner": {', { 'content-type': 'application/json' }, 400, 'MALFORMED_JSON'],
    ['an empty JSON body', '', { 'content-type': 'application/json' }, 400, 'MALFORMED_JSON'],
    ['a wrong content type', 'instanceOwner=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an oversize body', JSON.stringify({ instanceOwner: { partyId: OWNER_PARTY }, dataValues: { x: 'y'.repeat(9000) } }), { 'content-type': 'application/json' }, 413, 'BODY_TOO_LARGE'],
    ['a schema violation', JSON.stringify({ instanceOwner: { partyId: 'abc' } }), { 'content-type': 'application/json' }, 400, 'VALIDATION_FAILED'],
  ])('%s', async (_name, payload, headers, status, code) => {
    const response = await create(payload, headers);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe(PROBLEM);
    expect(response.json()).toMatchObject({ status, code, instance: expect.stringContaining('/instances'), requestId: expect.any(String) });
  });

  it('answers unknown routes with ROUTE_NOT_FOUND', async () => {
    const response = await h.app.inject({ method: 'GET', url: `${API}/nothing-here`, headers: h.auth.owner });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('ROUTE_NOT_FOUND');
  });

  it('echoes a caller-supplied request id, and makes one otherwise', async () => {
    const supplied = await h.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-123' } });
    expect(supplied.headers['x-request-id']).toBe('trace-123');
    const generated = await h.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('authentication', () => {
  it('requires a valid token', async () => {
    const instance = await createInstance(h);
    const none = await h.app.inject({ method: 'GET', url: instanceUrl(instance) });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toBe(PROBLEM);
    const expired = await h.app.inject({
      method: 'GET',
      url: instanceUrl(instance),
      headers: bearer(h.issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [Scopes.instancesRead] }, { expiresInSeconds: -3600 })),
    });
    expect(expired.statusCode).toBe(401);
    const forged = await h.app.inject({
      method: 'GET',
      url: instanceUrl(instance),
      headers: bearer(h.issuer.userToken({ userId: 1001, partyId: OWNER_PARTY }, { alg: 'HS256' })),
    });
    expect(forged.statusCode).toBe(401);
  });

  it('needs the instances scopes for parties and the serviceowner scopes for orgs', async () => {
    const instance = await createInstance(h);
    const noScope = bearer(h.issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [] }));
    const read = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: noScope });
    expect(read.statusCode).toBe(404);
    const readOnly = bearer(h.issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [Scopes.instancesRead] }));
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: readOnly })).statusCode).toBe(200);
    const write = await h.app.inject({ method: 'DELETE', url: instanceUrl(instance), headers: readOnly });
    expect(write.statusCode).toBe(403);
    expect(write.json().code).toBe('MISSING_SCOPE');
    const orgWithUserScopes = bearer(h.issuer.orgToken({ org: 'nav', scopes: [Scopes.instancesRead, Scopes.instancesWrite] }));
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: orgWithUserScopes })).statusCode).toBe(404);
  });

  it("never shows one party's instance to another, nor an org's to another org", async () => {
    const instance = await createInstance(h);
    for (const headers of [h.auth.otherOwner, h.auth.system, h.auth.skd]) {
      for (const [method, suffix, payload] of [
        ['GET', '', undefined],
        ['DELETE', '', undefined],
        ['PUT', '/process', { started: new Date().toISOString() }],
        ['PUT', '/datavalues', { values: { a: 'b' } }],
        ['PUT', '/readstatus?status=Read', undefined],
        ['GET', '/events', undefined],
      ] as const) {
        const response = await h.app.inject({ method, url: `${instanceUrl(instance)}${suffix}`, headers, ...(payload && { payload }) });
        expect([method, suffix, response.statusCode, response.json().code]).toEqual([method, suffix, 404, 'INSTANCE_NOT_FOUND']);
      }
    }
  });

  it('lets parties create instances only for themselves, and orgs only in their own apps', async () => {
    const forOther = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: h.auth.owner,
      payload: { instanceOwner: { partyId: '50002' } },
    });
    expect(forOther.statusCode).toBe(403);
    const skdInNavApp = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: h.auth.skd,
      payload: { instanceOwner: { partyId: '50002' } },
    });
    expect(skdInNavApp.statusCode).toBe(403);
    const navForParty = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: h.auth.nav,
      payload: { instanceOwner: { partyId: '50002' } },
    });
    expect(navForParty.statusCode).toBe(201);
    // As in Altinn, an org is recorded by its organisation number.
    expect(navForParty.json().createdBy).toBe('889640782');
  });
});

describe('applications register', () => {
  it('lets only the owning org register and change its apps, with version checks', async () => {
    const input = { dataTypes: [{ id: 'form', maxCount: 1, minCount: 1 }] };
    const bySkd = await h.app.inject({ method: 'POST', url: `${API}/applications/nav/new-app`, headers: h.auth.skd, payload: input });
    expect(bySkd.statusCode).toBe(403);
    const byUser = await h.app.inject({ method: 'POST', url: `${API}/applications/nav/new-app`, headers: h.auth.owner, payload: input });
    expect(byUser.statusCode).toBe(403);
    const created = await h.app.inject({ method: 'POST', url: `${API}/applications/nav/new-app`, headers: h.auth.nav, payload: input });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'nav/new-app', org: 'nav', version: 1, dataTypes: [{ id: 'form', maxCount: 1 }] });
    const again = await h.app.inject({ method: 'POST', url: `${API}/applications/nav/new-app`, headers: h.auth.nav, payload: input });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('APPLICATION_EXISTS');

    const changed = { ...input, title: { en: 'New' } };
    const stale = await h.app.inject({ method: 'PUT', url: `${API}/applications/nav/new-app`, headers: { ...h.auth.nav, 'if-match': '"5"' }, payload: changed });
    expect(stale.statusCode).toBe(412);
    const updated = await h.app.inject({ method: 'PUT', url: `${API}/applications/nav/new-app`, headers: { ...h.auth.nav, 'if-match': '"1"' }, payload: changed });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ version: 2, title: { en: 'New' } });

    const read = await h.app.inject({ method: 'GET', url: `${API}/applications/nav/new-app`, headers: h.auth.owner });
    expect(read.json().title).toEqual({ en: 'New' });
    const list = await h.app.inject({ method: 'GET', url: `${API}/applications/nav`, headers: h.auth.owner });
    expect(list.json().applications.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['nav/new-app', 'nav/sample-app']));
    const missing = await h.app.inject({ method: 'GET', url: `${API}/applications/nav/missing`, headers: h.auth.owner });
    expect(missing.statusCode).toBe(404);
  });

  it('rejects inconsistent data types', async () => {
    const duplicate = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/dup-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a', maxCount: 1, minCount: 0 }, { id: 'a', maxCount: 1, minCount: 0 }] },
    });
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json().code).toBe('DUPLICATE_DATA_TYPE');
    const minAboveMax = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/minmax-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a', maxCount: 1, minCount: 2 }] },
    });
    expect(minAboveMax.json().code).toBe('INVALID_DATA_TYPE');
    const copying = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/copy-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a' }], copyInstanceSettings: { enabled: true, excludedDataTypes: ['b'] } },
    });
    expect(copying.json()).toMatchObject({ status: 400, code: 'INVALID_COPY_SETTINGS' });
    const fields = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/fields-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a' }], dataFields: [{ id: 'x', path: 'applicant.name', dataTypeId: 'b' }] },
    });
    expect(fields.json()).toMatchObject({ status: 400, code: 'INVALID_DATA_FIELD' });
    const badPath = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/copy-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a' }], copyInstanceSettings: { enabled: true, excludedDataFields: ['applicant..name'] } },
    });
    expect(badPath.statusCode).toBe(400);
  });

  it('keeps copyInstanceSettings as registered, and an update without them removes them', async () => {
    const settings = { enabled: true, excludedDataTypes: ['a'], excludedDataFields: ['applicant.income', 'children.birthYear'], includeAttachments: true };
    const registered = await h.app.inject({
      method: 'POST',
      url: `${API}/applications/nav/copying-app`,
      headers: h.auth.nav,
      payload: { dataTypes: [{ id: 'a' }], copyInstanceSettings: settings, validTo: '2030-01-01T00:00:00.000Z' },
    });
    expect(registered.statusCode).toBe(201);
    expect(registered.json()).toMatchObject({ copyInstanceSettings: settings, validTo: '2030-01-01T00:00:00.000Z' });
    const updated = await h.app.inject({ method: 'PUT', url: `${API}/applications/nav/copying-app`, headers: h.auth.nav, payload: { dataTypes: [{ id: 'a' }] } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).not.toHaveProperty('copyInstanceSettings');
    expect(updated.json()).not.toHaveProperty('validTo');
    const read = await h.app.inject({ url: `${API}/applications/nav/copying-app`, headers: h.auth.nav });
    expect(read.json()).not.toHaveProperty('copyInstanceSettings');
  });
});

describe('operations', () => {
  it('serves health, readiness and the OpenAPI document without a token', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await h.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { metadata: 'ok', blobs: 'ok' } });
    const doc = await h.app.inject({ method: 'GET', url: '/storage/swagger/json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/storage/api/v1/instances',
        '/storage/api/v1/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}',
        '/storage/api/v1/applications/{org}/{app}',
      ]),
    );
    expect((await h.app.inject({ method: 'GET', url: '/storage/swagger/' })).statusCode).toBe(200);
  });
});
