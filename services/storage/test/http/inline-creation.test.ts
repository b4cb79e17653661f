import { createHash, randomUUID } from 'node:crypto';
import type { Instance, InstanceEvent } from '@forms/contracts';
import { listStoredBlobs } from '../support/blob-listing';
import { API, instanceUrl, OWNER_PARTY, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const inline = (dataType: string, contentType: string, content: Buffer | string, filename?: string) => ({
  dataType,
  contentType,
  ...(filename !== undefined && { filename }),
  content: Buffer.from(content).toString('base64'),
});
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(120, 0)]);

/** A JSON instantiation with its initial data inline (ADR 0020): the one-call creation without multipart. */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('creating an instance with its data inline in JSON (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    // 1 KB: the form stays in the metadata store (embedded), the PDF goes to the blob store as a stream.
    h = await startStorage(adapters, { INLINE_CONTENT_MAX_KB: '1', MAX_JSON_BODY_KB: '64' });
    await registerApp(h);
  });
  afterAll(() => h.close());

  const create = (body: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: `${API}/instances?appId=nav/sample-app`, headers: viaApp(h, h.auth.owner), payload: body });
  const form = Buffer.from(JSON.stringify({ applicant: { name: 'Kari' } }));
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5000, 7), Buffer.from('\n%%EOF\n')]);
  const pendingUploads = () => h.app.storage.context.store.pendingUploads.listStartedBefore('9999', 100);
  const storedNothing = async (instanceGuid: string) => {
    expect(await h.app.storage.context.store.instances.get(instanceGuid)).toBeNull();
    expect(await pendingUploads()).toEqual([]);
    expect(await listStoredBlobs(h.config, `nav/sample-app/${instanceGuid}/`)).toEqual([]);
  };

  it('stores the instance with each element byte for byte, and their events', async () => {
    const response = await create({
      instanceOwner: { partyId: OWNER_PARTY },
      data: [inline('model', 'application/json', form), inline('attachment', 'application/pdf', pdf, 'scans/proof.pdf')],
    });
    expect(response.statusCode).toBe(201);
    const instance = response.json<Instance>();
    expect(instance.data.map((element) => [element.dataType, element.contentType, element.filename, element.size, element.contentHash])).toEqual([
      ['model', 'application/json', undefined, form.length, sha256(form)],
      ['attachment', 'application/pdf', 'scans_proof.pdf', pdf.length, sha256(pdf)],
    ]);
    for (const [index, content] of [form, pdf].entries()) {
      const element = instance.data[index] as Instance['data'][number];
      const download = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/data/${element.id}`, headers: h.auth.owner });
      expect(download.statusCode).toBe(200);
      expect(sha256(download.rawPayload)).toBe(sha256(content));
    }
    const events = (await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events`, headers: h.auth.nav })).json<{ instanceEvents: InstanceEvent[] }>();
    expect(events.instanceEvents.map((event) => [event.eventType, event.dataId])).toEqual([
      ['Created', undefined],
      ['DataCreated', instance.data[0]?.id],
      ['DataCreated', instance.data[1]?.id],
    ]);
    expect(await pendingUploads()).toEqual([]);
  });

  it.each([
    ['content outside the base64 alphabet', inline('model', 'application/json', form), { content: 'e30=!' }, 400, 'VALIDATION_FAILED'],
    ['base64 content without its padding', inline('model', 'application/json', form), { content: 'e30' }, 400, 'INVALID_BASE64'],
    ['a field the schema does not have', inline('model', 'application/json', form), { size: 3 }, 400, 'VALIDATION_FAILED'],
    ['a data type the app does not have', inline('nonsense', 'application/json', form), {}, 400, 'DATA_TYPE_NOT_FOUND'],
    ['a content type the data type does not allow', inline('attachment', 'text/html', '<p>x</p>'), {}, 415, 'CONTENT_TYPE_NOT_ALLOWED'],
    ['content that is not what its type claims', inline('model', 'application/json', ELF), {}, 415, 'CONTENT_TYPE_MISMATCH'],
    ['empty content', inline('attachment', 'application/pdf', ''), {}, 400, 'DATA_EMPTY'],
  ])('stores nothing at all when an element has %s', async (_name, badPart, change, status, code) => {
    const instanceGuid = randomUUID();
    const response = await create({ instanceOwner: { partyId: OWNER_PARTY }, instanceGuid, data: [inline('attachment', 'application/pdf', pdf), { ...badPart, ...change }] });
    expect([response.statusCode, response.json().code]).toEqual([status, code]);
    await storedNothing(instanceGuid);
  });

  it('refuses the party alone, or another app acting for it, with its data inline as without (the app is the authority)', async () => {
    for (const [headers, code] of [
      [h.auth.owner, 'APP_REQUIRED'],
      [viaApp(h, h.auth.owner, 'nav/other-app'), 'APP_MISMATCH'],
    ] as const) {
      const instanceGuid = randomUUID();
      const response = await h.app.inject({
        method: 'POST',
        url: `${API}/instances?appId=nav/sample-app`,
        headers,
        payload: { instanceOwner: { partyId: OWNER_PARTY }, instanceGuid, data: [inline('model', 'application/json', form)] },
      });
      expect([response.statusCode, response.json().code]).toEqual([403, code]);
      await storedNothing(instanceGuid);
    }
  });

  it('refuses a body over MAX_JSON_BODY_KB with 413 before reading it, and stores nothing', async () => {
    const instanceGuid = randomUUID();
    const large = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(60_000, 7), Buffer.from('\n%%EOF\n')]);
    const response = await create({ instanceOwner: { partyId: OWNER_PARTY }, instanceGuid, data: [inline('attachment', 'application/pdf', large)] });
    expect([response.statusCode, response.json().code]).toEqual([413, 'BODY_TOO_LARGE']);
    await storedNothing(instanceGuid);
  });

  it('refuses inline data in the instance part of a multipart creation (that part is the instance alone)', async () => {
    const boundary = 'x-boundary';
    const instancePart = JSON.stringify({ instanceOwner: { partyId: OWNER_PARTY }, data: [inline('model', 'application/json', form)] });
    const response = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: { ...viaApp(h, h.auth.owner), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="instance"\r\nContent-Type: application/json\r\n\r\n${instancePart}\r\n--${boundary}--\r\n`,
    });
    expect([response.statusCode, response.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
