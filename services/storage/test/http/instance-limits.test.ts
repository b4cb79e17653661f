import { randomUUID } from 'node:crypto';
import type { Instance } from '@forms/contracts';
import { listStoredBlobs } from '../support/blob-listing';
import { API, createInstance, instanceUrl, OWNER_PARTY, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

const MAX_ELEMENTS = 5;

/**
 * An instance's data elements, data values and texts are one document that every write rewrites: storage
 * caps how many elements and how many bytes one instance may hold, whoever writes and however many at once.
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('how far one instance may grow (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters, { MAX_DATA_ELEMENTS_PER_INSTANCE: String(MAX_ELEMENTS), MAX_JSON_BODY_KB: '64', MAX_INSTANCE_KB: '192' });
    // 'bigfile' has no maxCount: only the instance's own limit holds it.
    await registerApp(h);
  });
  afterAll(() => h.close());

  const upload = (instance: Instance) =>
    h.app.inject({
      method: 'POST',
      url: `${instanceUrl(instance)}/data?dataType=bigfile`,
      headers: { ...viaApp(h, h.auth.owner), 'content-type': 'application/octet-stream' },
      payload: randomUUID(),
    });
  const stored = (instance: Instance) => h.app.storage.context.store.instances.get(instance.id.split('/')[1]!) as Promise<Instance>;
  const blobsOf = (instance: Instance) => listStoredBlobs(h.config, `${instance.appId}/${instance.id.split('/')[1]}/`);
  const pendingUploads = () => h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100);
  const setValues = (instance: Instance, values: Record<string, string | null>) =>
    h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/datavalues`, headers: viaApp(h, h.auth.owner), payload: { values } });

  it('refuses a data element past the limit, before storing its content, and takes one again after a deletion', async () => {
    const instance = await createInstance(h);
    for (let i = 0; i < MAX_ELEMENTS; i++) expect((await upload(instance)).statusCode).toBe(201);
    const before = await stored(instance);

    const refused = await upload(instance);
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'INSTANCE_DATA_ELEMENT_LIMIT' });
    expect(await stored(instance)).toEqual(before);
    expect((await blobsOf(instance)).length).toBeLessThanOrEqual(MAX_ELEMENTS);
    expect(await pendingUploads()).toEqual([]);

    const removed = await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}/data/${before.data[0]!.id}`, headers: viaApp(h, h.auth.owner) });
    expect(removed.statusCode).toBe(200);
    expect((await upload(instance)).statusCode).toBe(201);
    expect((await stored(instance)).data).toHaveLength(MAX_ELEMENTS);
  });

  it('holds the limit when uploads race: exactly as many elements as allowed, no content left behind', async () => {
    const instance = await createInstance(h);
    const answers = await Promise.all(Array.from({ length: 12 }, () => upload(instance)));
    const codes = answers.map((answer) => answer.statusCode);
    expect(codes.filter((code) => code === 201)).toHaveLength(MAX_ELEMENTS);
    for (const answer of answers.filter((a) => a.statusCode !== 201)) expect(answer.json().code).toBe('INSTANCE_DATA_ELEMENT_LIMIT');
    const after = await stored(instance);
    expect(after.data).toHaveLength(MAX_ELEMENTS);
    // Only the recorded elements' content is kept (small content may sit in the metadata store instead of a blob).
    const blobs = await blobsOf(instance);
    expect(blobs.every((path) => after.data.some((element) => element.blobStoragePath === path))).toBe(true);
    expect(await pendingUploads()).toEqual([]);
  });

  it('refuses an instantiation with more initial data than an instance may hold, storing nothing', async () => {
    const instanceGuid = randomUUID();
    const part = { dataType: 'bigfile', contentType: 'application/octet-stream', content: Buffer.from('content').toString('base64') };
    const response = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: viaApp(h, h.auth.owner),
      payload: { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid, data: Array.from({ length: MAX_ELEMENTS + 1 }, () => part) },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('INSTANCE_DATA_ELEMENT_LIMIT');
    expect(await h.app.storage.context.store.instances.get(instanceGuid)).toBeNull();
    expect(await listStoredBlobs(h.config, `nav/sample-app/${instanceGuid}/`)).toEqual([]);
    expect(await pendingUploads()).toEqual([]);
  });

  it('refuses a change that takes the document past its size, and still takes changes that shrink it', async () => {
    const instance = await createInstance(h);
    const batch = (prefix: string) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${prefix}${i}`, 'v'.repeat(1000)]));
    // 50 kB a request: the third fits in 192 kB, the fourth does not.
    for (const prefix of ['a', 'b', 'c']) expect((await setValues(instance, batch(prefix))).statusCode).toBe(200);
    const before = await stored(instance);

    const refused = await setValues(instance, batch('d'));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('INSTANCE_TOO_LARGE');
    expect(await stored(instance)).toEqual(before);

    const shrunk = await setValues(instance, Object.fromEntries(Object.keys(batch('a')).map((key) => [key, null])));
    expect(shrunk.statusCode).toBe(200);
    expect((await setValues(instance, batch('d'))).statusCode).toBe(200);
    expect(Object.keys((await stored(instance)).dataValues ?? {})).toHaveLength(150);
  });
});
