import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageClient } from '@forms/client';
import type { Instance } from '@forms/contracts';
import { blobPrefixOf, listStoredBlobs } from '../support/blob-listing';
import { API, OTHER_PARTY, OWNER_PARTY, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const tokenOf = (headers: Record<string, string>) => (headers.authorization ?? '').replace(/^Bearer /, '');

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('creating an instance with its data in one call (%s)', (adapters) => {
  let h: StorageHarness;
  let client: StorageClient;
  let owner: string;
  let other: string;

  beforeAll(async () => {
    h = await startStorage(adapters);
    await registerApp(h);
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    // As the app service calls storage: its own token beside the party's.
    const appToken = h.issuer.appToken({ app: 'nav/sample-app' });
    client = new StorageClient({ baseUrl: `${address}${API}`, accessToken: async () => appToken });
    owner = tokenOf(h.auth.owner);
    other = tokenOf(h.auth.otherOwner);
  });
  afterAll(() => h.close());

  const form = Buffer.from(JSON.stringify({ applicant: { name: 'Kari' } }));
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300_000, 7), Buffer.from('\n%%EOF\n')]);
  const parts = () => [
    { dataType: 'model', contentType: 'application/json', body: form },
    { dataType: 'attachment', contentType: 'application/pdf', filename: 'proof.pdf', body: Readable.from([pdf.subarray(0, 100_000), pdf.subarray(100_000)]) },
  ];
  const pendingUploads = () => h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100);

  it('stores the instance, its data elements and their events together', async () => {
    const instance = await client.createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid: randomUUID() }, parts());
    expect(instance.data.map((element) => [element.dataType, element.filename, element.size, element.contentHash])).toEqual([
      ['model', undefined, form.length, sha256(form)],
      ['attachment', 'proof.pdf', pdf.length, sha256(pdf)],
    ]);
    const read = await client.getInstance(owner, instance.id);
    expect(read.value).toEqual(instance);
    const events = await client.listEvents(owner, instance.id);
    expect(events.map((event) => [event.eventType, event.dataId])).toEqual([
      ['Created', undefined],
      ['DataCreated', instance.data[0]?.id],
      ['DataCreated', instance.data[1]?.id],
    ]);
    const download = await client.downloadData(owner, instance.id, instance.data[1]?.id as string);
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(pdf));
    expect(await pendingUploads()).toEqual([]);
  });

  it('sends data held in memory inline in JSON (ADR 0020) and stores it as it stores multipart parts', async () => {
    const proof = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 7), Buffer.from('\n%%EOF\n')]);
    const instance = await client.createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY } }, [
      { dataType: 'model', contentType: 'application/json', body: form },
      { dataType: 'attachment', contentType: 'application/pdf', filename: 'proof.pdf', body: proof },
    ]);
    expect(instance.data.map((element) => [element.dataType, element.filename, element.size, element.contentHash])).toEqual([
      ['model', undefined, form.length, sha256(form)],
      ['attachment', 'proof.pdf', proof.length, sha256(proof)],
    ]);
    const download = await client.downloadData(owner, instance.id, instance.data[1]?.id as string);
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(proof));
  });

  it('answers a repeated request with the instance the first one created, and stores nothing twice', async () => {
    const instanceGuid = randomUUID();
    const body = { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid };
    const first = await client.createInstance(owner, 'nav/sample-app', body, parts());
    const repeated = await h.app.inject({ method: 'POST', url: `${API}/instances?appId=nav/sample-app`, headers: viaApp(h, h.auth.owner), payload: body });
    expect(repeated.statusCode).toBe(200);
    expect(repeated.json<Instance>()).toEqual(first);
    const again = await client.createInstance(owner, 'nav/sample-app', body, parts());
    expect(again).toEqual(first);
    const page = await client.queryInstances(owner, { 'instanceOwner.partyId': OWNER_PARTY, size: 1000 });
    expect(page.instances.filter((instance) => instance.id === first.id)).toHaveLength(1);
    expect((await client.listEvents(owner, first.id)).filter((event) => event.eventType === 'Created')).toHaveLength(1);
    expect(await pendingUploads()).toEqual([]);
    expect(await listStoredBlobs(h.config, blobPrefixOf(first))).toHaveLength(2);
  });

  it('gives instances and data elements time-ordered ids (UUIDv7, ADR 0019), and keeps a guid the caller chose', async () => {
    const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const created: Instance[] = [];
    for (let index = 0; index < 3; index += 1) created.push(await client.createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY } }, parts()));
    const guids = created.map((instance) => instance.id.split('/')[1] as string);
    const dataIds = created.flatMap((instance) => instance.data.map((element) => element.id));
    for (const id of [...guids, ...dataIds]) expect(id).toMatch(UUID_V7);
    // Each new one sorts after the last: it lands at the end of the indexes keyed by it.
    expect([...guids].sort()).toEqual(guids);
    expect([...dataIds].sort()).toEqual(dataIds);
    const chosen = randomUUID();
    const withChosen = await client.createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid: chosen });
    expect(withChosen.id).toBe(`${OWNER_PARTY}/${chosen}`);
  });

  it('refuses a guid another party or app already used, without touching that instance', async () => {
    const instanceGuid = randomUUID();
    const first = await client.createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid });
    const error = await client.createInstance(other, 'nav/sample-app', { instanceOwner: { partyId: OTHER_PARTY }, instanceGuid }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'conflict', code: 'INSTANCE_GUID_TAKEN' });
    expect((await client.getInstance(owner, first.id)).value).toEqual(first);
  });

  it.each([
    ['a content type the data type does not allow', { dataType: 'attachment', contentType: 'text/html', body: '<p>x</p>' }, 'unsupported_media_type', 'CONTENT_TYPE_NOT_ALLOWED'],
    ['a data type the app does not have', { dataType: 'nonsense', contentType: 'application/pdf', body: '%PDF' }, 'invalid', 'DATA_TYPE_NOT_FOUND'],
    ['content over the data type’s size limit', { dataType: 'attachment', contentType: 'application/pdf', body: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1024 * 1024 + 1, 1)]) }, 'too_large', 'DATA_TOO_LARGE'],
  ])('stores nothing at all when a later part has %s', async (_name, badPart, kind, code) => {
    const instanceGuid = randomUUID();
    const response = await client
      .createInstance(owner, 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid }, [...parts(), badPart])
      .catch((caught: unknown) => caught);
    expect(response).toMatchObject({ kind, code });
    expect(await h.app.storage.context.store.instances.get(instanceGuid)).toBeNull();
    expect(await pendingUploads()).toEqual([]);
    expect(await listStoredBlobs(h.config, `nav/sample-app/${instanceGuid}/`)).toEqual([]);
  });

  it('refuses a multipart body that does not start with the instance part', async () => {
    const boundary = 'x-boundary';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="model"; filename=""\r\nContent-Type: application/json\r\n\r\n{}\r\n--${boundary}--\r\n`;
    const response = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: { ...viaApp(h, h.auth.owner), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INSTANCE_PART_REQUIRED' });
  });

  const instancePart = (boundary: string, instanceGuid: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="instance"\r\nContent-Type: application/json\r\n\r\n` +
    `${JSON.stringify({ instanceOwner: { partyId: OWNER_PARTY }, instanceGuid })}\r\n`;
  it.each([
    ['without a boundary', 'multipart/form-data', (guid: string) => instancePart('x', guid)],
    ['with an empty boundary', 'multipart/form-data; boundary=""', (guid: string) => instancePart('x', guid)],
    ['with a boundary longer than 70 characters', `multipart/form-data; boundary=${'b'.repeat(300)}`, (guid: string) => instancePart('b'.repeat(300), guid)],
    [
      'cut off in the middle of a data part',
      'multipart/form-data; boundary=x',
      (guid: string) => `${instancePart('x', guid)}--x\r\nContent-Disposition: form-data; name="attachment"; filename="proof.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n${'7'.repeat(5000)}`,
    ],
    ['cut off in the instance part', 'multipart/form-data; boundary=x', (guid: string) => instancePart('x', guid)],
    ['cut off in the headers of a part', 'multipart/form-data; boundary=x', (guid: string) => `${instancePart('x', guid)}--x\r\nContent-Disposition: form-da`],
    [
      'whose parts are whole but which has no closing boundary',
      'multipart/form-data; boundary=x',
      (guid: string) => `${instancePart('x', guid)}--x\r\nContent-Disposition: form-data; name="attachment"; filename="proof.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n%%EOF\n\r\n--x\r\n`,
    ],
  ])('refuses a multipart body %s with 400 MALFORMED_MULTIPART, and stores nothing', async (_name, contentType, payload) => {
    const instanceGuid = randomUUID();
    const response = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: { ...viaApp(h, h.auth.owner), 'content-type': contentType },
      payload: payload(instanceGuid),
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'MALFORMED_MULTIPART' });
    expect(await h.app.storage.context.store.instances.get(instanceGuid)).toBeNull();
    expect(await pendingUploads()).toEqual([]);
    expect(await listStoredBlobs(h.config, `nav/sample-app/${instanceGuid}/`)).toEqual([]);
  });
});

describe('a creation whose sender fails half-way', () => {
  it('stores nothing, and does not hold the server open', async () => {
    // The sender's HTTP client may keep the broken connection for its keep-alive time (4 s): shutdown waits at most that.
    const h = await startStorage('embedded');
    await registerApp(h);
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const client = new StorageClient({ baseUrl: `${address}${API}` });
    const instanceGuid = randomUUID();
    async function* failing() {
      yield { dataType: 'model', contentType: 'application/json', body: Buffer.from('{}') };
      yield { dataType: 'attachment', contentType: 'application/pdf', body: Readable.from((async function* () {
        yield Buffer.from('%PDF-1.7 ');
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('the sender failed');
      })()) };
    }
    const error = await client.createInstance(tokenOf(h.auth.owner), 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid }, failing()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await h.app.storage.context.store.instances.get(instanceGuid)).toBeNull();
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 10)).toEqual([]);
    const closing = h.close().then(() => 'closed');
    expect(await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000))])).toBe('closed');
  });
});

describe('a storage whose JSON limit is below the inline data', () => {
  it('gets the same parts as multipart from the client, and stores them once', async () => {
    const h = await startStorage('embedded', { MAX_JSON_BODY_KB: '1' });
    try {
      await registerApp(h);
      const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
      const appToken = h.issuer.appToken({ app: 'nav/sample-app' });
      const client = new StorageClient({ baseUrl: `${address}${API}`, accessToken: async () => appToken });
      const form = Buffer.from(JSON.stringify({ notes: 'x'.repeat(2000) }));
      const instanceGuid = randomUUID();
      const instance = await client.createInstance(tokenOf(h.auth.owner), 'nav/sample-app', { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid }, [
        { dataType: 'model', contentType: 'application/json', body: form },
      ]);
      expect(instance.data.map((element) => [element.dataType, element.size, element.contentHash])).toEqual([['model', form.length, sha256(form)]]);
      const page = await client.queryInstances(tokenOf(h.auth.owner), { 'instanceOwner.partyId': OWNER_PARTY, size: 10 });
      expect(page.instances.map((found) => found.id)).toEqual([instance.id]);
    } finally {
      await h.close();
    }
  });
});
