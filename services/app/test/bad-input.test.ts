/**
 * Every way a caller can get it wrong gets a clear 4xx problem, and nothing it sent is half-stored.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { createInstance as createStorageInstance, OTHER_PARTY, OWNER_PARTY, registerApp, SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF, PNG, storedInstance } from './support/fixtures';

let h: AppHarness;
let owner: Record<string, string>;
let instance: Instance;
let form: DataElement;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  owner = h.storage.auth.owner;
  instance = await createInstance(h, owner, OWNER_PARTY);
  form = instance.data.find((d) => d.dataType === 'model') as DataElement;
});
afterAll(() => h.close());

const formUrl = () => `${h.base}/instances/${instance.id}/data/${form.id}`;
const putForm = (payload: string, contentType = 'application/xml') =>
  h.app.inject({ method: 'PUT', url: formUrl(), headers: { ...owner, 'content-type': contentType }, payload });

/** The stored form must be exactly as prefilled after every refused write. */
async function expectFormUnchanged(): Promise<void> {
  const read = await h.app.inject({ url: formUrl(), headers: owner });
  expect(read.json()).toEqual({ applicant: { name: 'Ola Nordmann' }, children: [], numberOfChildren: 0, monthlyBenefit: 0 });
  expect(read.headers.etag).toBe(`"${form.version}"`);
}

describe('hostile and malformed XML', () => {
  test('an external entity (XXE) is refused before anything is resolved', async () => {
    const xxe = `<?xml version="1.0"?>
<!DOCTYPE ChildBenefit [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ChildBenefit><applicant><name>&secret;</name></applicant></ChildBenefit>`;
    const problem = expectProblem(await putForm(xxe), 400, 'XML_DTD_FORBIDDEN');
    expect(JSON.stringify(problem)).not.toContain('root:');
    await expectFormUnchanged();
  });

  test('entity expansion (billion laughs) is refused', async () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ChildBenefit><applicant><name>&lol4;</name></applicant></ChildBenefit>`;
    expectProblem(await putForm(lol), 400, 'XML_DTD_FORBIDDEN');
    await expectFormUnchanged();
  });

  test('XML that is not well-formed', async () => {
    expectProblem(await putForm('<ChildBenefit><applicant><name>Kari</applicant></ChildBenefit>'), 400, 'MALFORMED_XML');
    await expectFormUnchanged();
  });

  test('XML with another root element than the model', async () => {
    expectProblem(await putForm('<TaxReturn><income>1</income></TaxReturn>'), 400, 'XML_ROOT_MISMATCH');
    await expectFormUnchanged();
  });

  test('XML whose values do not match the model', async () => {
    const problem = expectProblem(
      await putForm('<ChildBenefit><applicant><name>Kari</name><monthlyIncome>lots</monthlyIncome></applicant></ChildBenefit>'),
      400,
      'FORM_DATA_INVALID',
    );
    expect(JSON.stringify(problem.errors)).toContain('monthlyIncome');
    await expectFormUnchanged();
  });
});

describe('JSON that does not fit', () => {
  test('malformed JSON', async () => {
    expectProblem(await putForm('{"applicant": {', 'application/json'), 400, 'MALFORMED_JSON');
    await expectFormUnchanged();
  });

  test('a field the model does not have', async () => {
    expectProblem(await putForm(JSON.stringify({ applicant: { name: 'Kari' }, shoeSize: 42 }), 'application/json'), 400, 'FORM_DATA_INVALID');
    await expectFormUnchanged();
  });

  test('a value of the wrong type', async () => {
    expectProblem(await putForm(JSON.stringify({ applicant: { name: 'Kari' }, children: 'two' }), 'application/json'), 400, 'FORM_DATA_INVALID');
    await expectFormUnchanged();
  });

  test('a JSON Patch that is not a list of operations, or breaks the model', async () => {
    const patch = (payload: unknown, contentType = 'application/json') =>
      h.app.inject({ method: 'PATCH', url: formUrl(), headers: { ...owner, 'content-type': contentType }, payload: JSON.stringify(payload) });
    expectProblem(await patch({ patch: { op: 'add' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await patch([{ op: 'add', path: '/x', value: 1 }]), 400, 'VALIDATION_FAILED');
    expectProblem(await patch({ patch: [{ op: 'fly', path: '/x' }] }), 400, 'INVALID_PATCH');
    expectProblem(await patch({ patch: [{ op: 'add', path: '/applicant/monthlyIncome', value: -5 }] }), 400, 'FORM_DATA_INVALID');
    expect((await patch({ patch: [] }, 'application/json-patch+json')).statusCode).toBe(415);
    const malformed = await h.app.inject({ method: 'PATCH', url: formUrl(), headers: { ...owner, 'content-type': 'application/json' }, payload: '{"patch": [' });
    expectProblem(malformed, 400, 'MALFORMED_JSON');
    await expectFormUnchanged();
  });

  test('form data in a format the app does not read', async () => {
    expectProblem(await putForm('applicant=Kari', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_FORM_DATA_FORMAT');
    await expectFormUnchanged();
  });

  test('form data larger than the limit', async () => {
    const huge = JSON.stringify({ applicant: { name: 'x'.repeat(2 * 1024 * 1024) } });
    expectProblem(await putForm(huge, 'application/json'), 413, 'BODY_TOO_LARGE');
    await expectFormUnchanged();
  });
});

const CONTENT_TYPE_REFUSED = 'CONTENT_TYPE_NOT_ALLOWED';

describe('wrong data types and attachments', () => {
  const post = (dataType: string, contentType: string, payload: Buffer | string) =>
    h.app.inject({ method: 'POST', url: `${h.base}/instances/${instance.id}/data?dataType=${dataType}`, headers: { ...owner, 'content-type': contentType }, payload });

  test('a data type the app does not have', async () => {
    expectProblem(await post('salary', 'application/pdf', PDF), 400, 'DATA_TYPE_NOT_FOUND');
  });

  test('a second form where the model allows one', async () => {
    const response = await post('model', 'application/json', JSON.stringify({ applicant: { name: 'Kari' } }));
    expect(response.statusCode).toBe(409);
  });

  test('an attachment of a type the data type does not allow (judged by content too)', async () => {
    expect((await post('proof', 'text/plain', 'just text')).statusCode).toBe(415);
    // A PNG is allowed for proof, but this "PNG" is a PDF.
    expectProblem(await post('proof', 'image/png', PDF), 415, 'CONTENT_TYPE_MISMATCH');
    // A PNG declared as a PDF.
    expectProblem(await post('proof', 'application/pdf', PNG), 415, 'CONTENT_TYPE_MISMATCH');
  });

  test('an attachment larger than its data type allows: 413 and no data element', async () => {
    const sixMegabytes = Buffer.concat([PDF, Buffer.alloc(6 * 1024 * 1024, 0x20), Buffer.from('%%EOF\n')]);
    const response = await post('proof', 'application/pdf', sixMegabytes);
    expect(response.statusCode).toBe(413);
    const stored = await storedInstance(h, owner, instance.id);
    expect(stored?.data.filter((d) => d.dataType === 'proof')).toEqual([]);
  });

  test('form data sent to the attachment route is refused, and an attachment cannot be PUT as form data', async () => {
    const before = (await storedInstance(h, owner, instance.id))?.data.map((d) => d.id);
    for (const [contentType, body] of [
      ['application/json', JSON.stringify({ applicant: { name: 'Kari' } })],
      ['application/xml', '<ChildBenefit><applicant><name>Kari</name></applicant></ChildBenefit>'],
    ] as const) {
      const asAttachment = await post('proof', contentType, body);
      expect([contentType, asAttachment.statusCode, asAttachment.json().code]).toEqual([contentType, 415, CONTENT_TYPE_REFUSED]);
    }
    expect((await storedInstance(h, owner, instance.id))?.data.map((d) => d.id)).toEqual(before);

    const proof = await post('proof', 'application/pdf', PDF);
    expect(proof.statusCode).toBe(201);
    const proofId = proof.json<DataElement>().id;
    const response = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${proofId}`,
      headers: { ...owner, 'content-type': 'application/json' },
      payload: '{}',
    });
    expectProblem(response, 400, 'NOT_FORM_DATA');
    const removed = await h.app.inject({ method: 'DELETE', url: `${h.base}/instances/${instance.id}/data/${proofId}`, headers: owner });
    expect(removed.statusCode).toBe(204);
  });

  test('an unknown data element', async () => {
    const response = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/00000000-0000-4000-8000-000000000000`, headers: owner });
    expectProblem(response, 404, 'DATA_ELEMENT_NOT_FOUND');
  });
});

describe("other parties' instances", () => {
  test('another person can neither read nor change the instance, nor learn that it exists', async () => {
    const other = h.storage.auth.otherOwner;
    const status = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: other });
    expect(status.statusCode).toBe(404);
    const read = await h.app.inject({ url: formUrl(), headers: other });
    expect(read.statusCode).toBe(404);
    const write = await h.app.inject({ method: 'PUT', url: formUrl(), headers: { ...other, 'content-type': 'application/json' }, payload: '{"applicant":{"name":"Mallory"}}' });
    expect(write.statusCode).toBe(404);
    const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: other });
    expect(next.statusCode).toBe(404);
    await expectFormUnchanged();
  });

  test('a person cannot create an instance for someone else', async () => {
    const response = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${OTHER_PARTY}`, headers: owner, payload: {} });
    expect(response.statusCode).toBe(403);
  });

  test('an instance of another app in the same storage is not found through this app', async () => {
    await registerApp(h.storage, 'nav/other-app');
    const other = await createStorageInstance(h.storage, { appId: 'nav/other-app', partyId: OWNER_PARTY });
    expectProblem(await h.app.inject({ url: `${h.base}/instances/${other.id}`, headers: owner }), 404, 'INSTANCE_NOT_FOUND');
    expect((await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${other.id}/process/next`, headers: owner })).statusCode).toBe(404);
  });

  test('an organisation may not use an app for persons, and a template cannot change what the party is', async () => {
    const create = (headers: Record<string, string>, partyId: string, instanceOwner: Record<string, string>) =>
      h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${partyId}`, headers, payload: { instanceOwner } });
    // An end-user system acts for an organisation; claiming a person number does not make it a person.
    expectProblem(await create(h.storage.auth.system, SYSTEM_PARTY, {}), 403, 'PARTY_TYPE_NOT_ALLOWED');
    expectProblem(await create(h.storage.auth.system, SYSTEM_PARTY, { personNumber: '01017012345' }), 400, 'OWNER_IDENTIFIER_MISMATCH');
    expectProblem(await create(owner, OWNER_PARTY, { organisationNumber: '910000001' }), 400, 'OWNER_IDENTIFIER_MISMATCH');
  });

  test('without a token there is nothing but the public metadata', async () => {
    expect((await h.app.inject({ url: `${h.base}/instances/${instance.id}` })).statusCode).toBe(401);
    expect((await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: { authorization: 'Bearer not.a.jwt' } })).statusCode).toBe(401);
    expect((await h.app.inject({ url: `${h.base}/api/v1/applicationmetadata` })).json()).toMatchObject({ id: 'nav/child-benefit' });
  });
});

describe('stale versions', () => {
  test('If-Match with an old ETag on PUT, PATCH, DELETE and process/next gives 412', async () => {
    const stale = { 'if-match': '"0"' };
    expectProblem(
      await h.app.inject({ method: 'PUT', url: formUrl(), headers: { ...owner, ...stale, 'content-type': 'application/json' }, payload: '{"applicant":{"name":"K"}}' }),
      412,
      'VERSION_MISMATCH',
    );
    expectProblem(
      await h.app.inject({
        method: 'PATCH',
        url: formUrl(),
        headers: { ...owner, ...stale, 'content-type': 'application/json' },
        payload: '{"patch":[{"op":"replace","path":"/applicant/name","value":"K"}]}',
      }),
      412,
      'VERSION_MISMATCH',
    );
    expectProblem(await h.app.inject({ method: 'DELETE', url: formUrl(), headers: { ...owner, ...stale } }), 412, 'VERSION_MISMATCH');
    expectProblem(await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: { ...owner, ...stale } }), 412, 'VERSION_MISMATCH');
    await expectFormUnchanged();
  });

  test('a weak tag of the current version is 412 and a malformed If-Match 400, on every route that takes it', async () => {
    const current = await storedInstance(h, owner, instance.id);
    const formVersion = current!.data.find((d) => d.id === form.id)!.version;
    const writes = (ifMatch: string) => [
      h.app.inject({ method: 'PUT', url: formUrl(), headers: { ...owner, 'if-match': ifMatch, 'content-type': 'application/json' }, payload: '{"applicant":{"name":"K"}}' }),
      h.app.inject({
        method: 'PATCH',
        url: formUrl(),
        headers: { ...owner, 'if-match': ifMatch, 'content-type': 'application/json' },
        payload: '{"patch":[{"op":"replace","path":"/applicant/name","value":"K"}]}',
      }),
      h.app.inject({ method: 'DELETE', url: formUrl(), headers: { ...owner, 'if-match': ifMatch } }),
    ];
    for (const response of await Promise.all(writes(`W/"${formVersion}"`))) expectProblem(response, 412, 'VERSION_MISMATCH');
    for (const response of await Promise.all(writes(String(formVersion)))) expectProblem(response, 400, 'INVALID_IF_MATCH');
    const next = `${h.base}/instances/${instance.id}/process/next`;
    expectProblem(await h.app.inject({ method: 'PUT', url: next, headers: { ...owner, 'if-match': `W/"${current!.version}"` } }), 412, 'VERSION_MISMATCH');
    expectProblem(await h.app.inject({ method: 'PUT', url: next, headers: { ...owner, 'if-match': 'any' } }), 400, 'INVALID_IF_MATCH');
    await expectFormUnchanged();
  });

  test('If-Match: * writes whatever version is current', async () => {
    const response = await h.app.inject({
      method: 'PATCH',
      url: formUrl(),
      headers: { ...owner, 'if-match': '*', 'content-type': 'application/json' },
      payload: '{"patch":[{"op":"test","path":"/applicant/name","value":"Ola Nordmann"}]}',
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('metadata and stateless endpoints', () => {
  test('the JSON Schema of a form type; attachment and unknown types have none', async () => {
    const schema = await h.app.inject({ url: `${h.base}/api/jsonschema/model` });
    expect(schema.json()).toMatchObject({ title: 'ChildBenefit', type: 'object' });
    expectProblem(await h.app.inject({ url: `${h.base}/api/jsonschema/proof` }), 400, 'NOT_FORM_DATA');
    expectProblem(await h.app.inject({ url: `${h.base}/api/jsonschema/nothing` }), 400, 'DATA_TYPE_NOT_FOUND');
  });

  test('stateless calculation, prefill and validation', async () => {
    const calculated = await h.app.inject({
      method: 'POST',
      url: `${h.base}/v1/data?dataType=model`,
      headers: owner,
      payload: { applicant: { name: 'Kari' }, children: [{ name: 'A', birthYear: new Date().getFullYear() - 1 }] },
    });
    expect(calculated.statusCode).toBe(200);
    // Altinn answers with the calculated model itself.
    expect(calculated.json()).toMatchObject({ applicant: { name: 'Kari' }, numberOfChildren: 1, monthlyBenefit: 1766 });
    const byHeader = await h.app.inject({ url: `${h.base}/v1/data?dataType=model`, headers: { ...owner, party: `partyid:${OWNER_PARTY}` } });
    expect(byHeader.statusCode).toBe(200);
    expectProblem(await h.app.inject({ url: `${h.base}/v1/data?dataType=model`, headers: { ...owner, party: `partyid:${OTHER_PARTY}` } }), 403, 'PARTY_NOT_ALLOWED');
    expectProblem(await h.app.inject({ url: `${h.base}/v1/data?dataType=model`, headers: { ...owner, party: 'someone' } }), 400, 'INVALID_PARTY_HEADER');
    // nav/child-benefit does not allow anonymous stateless calls.
    expectProblem(await h.app.inject({ method: 'POST', url: `${h.base}/v1/data/anonymous?dataType=model`, payload: {} }), 403, 'ANONYMOUS_NOT_ALLOWED');

    const prefilled = await h.app.inject({ url: `${h.base}/v1/data?dataType=model`, headers: owner });
    expect(prefilled.json()).toEqual({ applicant: { name: 'Ola Nordmann' }, children: [], numberOfChildren: 0, monthlyBenefit: 0 });

    const validated = await h.app.inject({
      method: 'POST',
      url: `${h.base}/v1/data/validate?dataType=model`,
      headers: owner,
      payload: { applicant: { name: 'Kari', personNumber: '01017012345' }, children: [{ name: 'A', birthYear: 3000 }] },
    });
    expect(validated.json<Array<{ code: string }>>().map((i) => i.code).sort()).toEqual(['BirthYearInFuture', 'IncomeMissing']);

    expectProblem(
      await h.app.inject({ method: 'POST', url: `${h.base}/v1/data?dataType=model`, headers: owner, payload: { applicant: { name: 'K' }, pets: 3 } }),
      400,
      'FORM_DATA_INVALID',
    );
    expectProblem(await h.app.inject({ url: `${h.base}/v1/data?dataType=proof`, headers: owner }), 400, 'NOT_FORM_DATA');
  });

  test('the OpenAPI document describes the app API', async () => {
    const response = await h.app.inject({ url: `${h.base}/swagger/json` });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/nav/child-benefit/instances',
        '/nav/child-benefit/instances/{instanceOwnerPartyId}/{instanceGuid}/data',
        '/nav/child-benefit/instances/{instanceOwnerPartyId}/{instanceGuid}/process/next',
        '/nav/child-benefit/v1/data/validate',
      ]),
    );
  });
});
