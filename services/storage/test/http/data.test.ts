import type { DataElement, Instance, InstanceEvent } from '@forms/contracts';
import { purgeHardDeleted } from '../../src/domain/hard-delete-cleanup';
import { createInstance, instanceUrl, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';
import { sha256 } from '../support/streams';
import { blobPrefixOf, listStoredBlobs } from '../support/blob-listing';

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5000, 7), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('data elements on the %s adapters', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters);
    await registerApp(h);
  });
  afterAll(() => h.close());

  const upload = (instance: Instance, dataType: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: `${instanceUrl(instance)}/data?dataType=${dataType}`,
      headers: { ...h.auth.owner, 'content-type': 'application/pdf', ...headers },
      payload: body,
    });

  const currentInstance = async (instance: Instance) =>
    (await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).json<Instance>();

  /**
   * Blobs stored for the instance, listed from the blob backend, next to the ones its data elements point to.
   * Equal sets mean no orphan and no dangling pointer.
   */
  const blobsOf = async (instance: Instance) => {
    const current = await currentInstance(instance);
    const stored = await listStoredBlobs(h.config, blobPrefixOf(instance));
    return { stored, referenced: current.data.map((d) => d.blobStoragePath).sort() };
  };
  const expectNoOrphans = async (instance: Instance, count: number) => {
    const { stored, referenced } = await blobsOf(instance);
    expect(referenced).toHaveLength(count);
    expect(stored).toEqual(referenced);
  };

  it('stores an upload with size, sha256 and filename, and streams it back', async () => {
    const instance = await createInstance(h);
    const response = await upload(instance, 'attachment', PDF, { 'content-disposition': "attachment; filename*=UTF-8''s%C3%B8knad%20%E2%80%93%20vedlegg.pdf" });
    expect(response.statusCode).toBe(201);
    const element = response.json<DataElement>();
    expect(element).toMatchObject({
      dataType: 'attachment',
      contentType: 'application/pdf',
      filename: 'søknad – vedlegg.pdf',
      size: PDF.length,
      contentHash: sha256(PDF),
      locked: false,
      version: 1,
    });
    expect(response.headers.location).toBe(`${instance.selfLinks.platform}/data/${element.id}`);

    const download = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/data/${element.id}`, headers: h.auth.owner });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-length']).toBe(String(PDF.length));
    expect(download.headers['content-disposition']).toContain('filename*=UTF-8');
    expect(sha256(download.rawPayload)).toBe(sha256(PDF));

    const types = (await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events`, headers: h.auth.owner }))
      .json<{ instanceEvents: InstanceEvent[] }>()
      .instanceEvents.map((e) => [e.eventType, e.dataId]);
    expect(types).toEqual([
      ['Created', undefined],
      ['DataCreated', element.id],
    ]);
  });

  it('serves byte ranges and refuses unsatisfiable ones', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, 'attachment', PDF)).json<DataElement>();
    const url = `${instanceUrl(instance)}/data/${element.id}`;
    const head = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: 'bytes=0-3' } });
    expect(head.statusCode).toBe(206);
    expect(head.body).toBe('%PDF');
    expect(head.headers['content-range']).toBe(`bytes 0-3/${PDF.length}`);
    const tail = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: 'bytes=-2' } });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload).toEqual(PDF.subarray(PDF.length - 2));
    const from = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: 'bytes=4000-' } });
    expect(from.statusCode).toBe(206);
    expect(from.headers['content-range']).toBe(`bytes 4000-${PDF.length - 1}/${PDF.length}`);
    expect(from.headers['content-length']).toBe(String(PDF.length - 4000));
    expect(sha256(from.rawPayload)).toBe(sha256(PDF.subarray(4000)));
    const past = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: `bytes=4000-${PDF.length + 500}` } });
    expect(past.statusCode).toBe(206);
    expect(past.headers['content-range']).toBe(`bytes 4000-${PDF.length - 1}/${PDF.length}`);
    // Headers that are not one satisfiable byte range of the grammar are ignored: the whole content, 200.
    for (const ignored of ['bytes 0-3', 'bytes=abc', 'items=0-3', 'bytes=0-1,5-6', '0-3']) {
      const whole = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: ignored } });
      expect([ignored, whole.statusCode, whole.headers['content-range']]).toEqual([ignored, 200, undefined]);
      expect(sha256(whole.rawPayload)).toBe(sha256(PDF));
    }
    // Syntactically fine but empty (start after end): nothing satisfiable.
    const backwards = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: 'bytes=9-2' } });
    expect(backwards.statusCode).toBe(416);
    const outside = await h.app.inject({ method: 'GET', url, headers: { ...h.auth.owner, range: `bytes=${PDF.length + 10}-` } });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${PDF.length}`);
  });

  it('refuses disallowed content types, unknown data types and a missing content type', async () => {
    const instance = await createInstance(h);
    const wrongType = await upload(instance, 'attachment', 'hello', { 'content-type': 'text/plain' });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().code).toBe('CONTENT_TYPE_NOT_ALLOWED');
    const wildcard = await upload(instance, 'attachment', PNG, { 'content-type': 'image/png' });
    expect(wildcard.statusCode).toBe(201);
    const notAPng = await upload(instance, 'attachment', 'png-ish', { 'content-type': 'image/png' });
    expect(notAPng.statusCode).toBe(415);
    expect(notAPng.json().code).toBe('CONTENT_TYPE_MISMATCH');
    const unknown = await upload(instance, 'no-such-type', PDF);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('DATA_TYPE_NOT_FOUND');
    const missing = await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/data?dataType=attachment`, headers: h.auth.owner, payload: PDF });
    expect([400, 415]).toContain(missing.statusCode);
    expect((await currentInstance(instance)).data).toHaveLength(1);
  });

  it('enforces maxSize while streaming: 413 and nothing stored', async () => {
    const instance = await createInstance(h);
    const oversize = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1024 * 1024, 1)]);
    const declared = await upload(instance, 'attachment', oversize);
    expect(declared.statusCode).toBe(413);
    expect(declared.json().code).toBe('DATA_TOO_LARGE');
    // Without Content-Length the limit trips mid-stream.
    const { Readable } = await import('node:stream');
    const streamed = await h.app.inject({
      method: 'POST',
      url: `${instanceUrl(instance)}/data?dataType=attachment`,
      headers: { ...h.auth.owner, 'content-type': 'application/pdf', 'transfer-encoding': 'chunked' },
      payload: Readable.from([oversize.subarray(0, 600_000), oversize.subarray(600_000)]),
    });
    expect(streamed.statusCode).toBe(413);
    await expectNoOrphans(instance, 0);
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 100)).toEqual([]);
  });

  it('enforces maxCount', async () => {
    const instance = await createInstance(h);
    for (let i = 0; i < 3; i++) expect((await upload(instance, 'attachment', PDF)).statusCode).toBe(201);
    const fourth = await upload(instance, 'attachment', PDF);
    expect(fourth.statusCode).toBe(409);
    expect(fourth.json().code).toBe('DATA_TYPE_MAX_COUNT');
    await expectNoOrphans(instance, 3);
  });

  it('enforces maxCount under concurrent uploads and leaves no orphan blob', async () => {
    const instance = await createInstance(h);
    const results = await Promise.all(Array.from({ length: 6 }, () => upload(instance, 'attachment', PDF)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 201, 201, 409, 409, 409]);
    expect((await currentInstance(instance)).data).toHaveLength(3);
    await expectNoOrphans(instance, 3);
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 100)).toEqual([]);
  });

  it('replaces content with a new version, honouring If-Match, and deletes the old blob', async () => {
    const instance = await createInstance(h);
    // The model is the app's to write (a party alone may not while the process is not in its task).
    const app = viaApp(h, h.auth.owner);
    const element = (await upload(instance, 'model', '<a>1</a>', { ...app, 'content-type': 'application/xml' })).json<DataElement>();
    const url = `${instanceUrl(instance)}/data/${element.id}`;
    const stale = await h.app.inject({
      method: 'PUT',
      url,
      headers: { ...app, 'content-type': 'application/xml', 'if-match': '"7"' },
      payload: '<a>2</a>',
    });
    expect(stale.statusCode).toBe(412);
    const replaced = await h.app.inject({
      method: 'PUT',
      url,
      headers: { ...app, 'content-type': 'application/xml', 'if-match': '"1"' },
      payload: '<a>2</a>',
    });
    expect(replaced.statusCode).toBe(200);
    const updated = replaced.json<DataElement>();
    expect(updated).toMatchObject({ id: element.id, version: 2, size: 8, contentHash: sha256('<a>2</a>') });
    expect(replaced.headers.etag).toBe('"2"');
    expect((await h.app.inject({ method: 'GET', url, headers: h.auth.owner })).body).toBe('<a>2</a>');
    expect(await h.app.storage.context.blobs.stat(element.blobStoragePath)).toBeNull();
    await expectNoOrphans(instance, 1);
  });

  it('locks the data of a task when the process leaves it, and opens it when the process comes back', async () => {
    const instance = await createInstance(h);
    const app = viaApp(h, h.auth.owner);
    const element = (await upload(instance, 'model', '{"a":1}', { ...app, 'content-type': 'application/json' })).json<DataElement>();
    const started = new Date().toISOString();
    const task = (elementId: string) => ({ flow: 1, started, elementId, altinnTaskType: 'data' });
    for (const elementId of ['Task_1', 'Task_2']) {
      const moved = await h.app.inject({
        method: 'PUT',
        url: `${instanceUrl(instance)}/process`,
        headers: app,
        payload: { started, currentTask: task(elementId) },
      });
      expect(moved.statusCode).toBe(200);
    }
    expect((await currentInstance(instance)).data[0]?.locked).toBe(true);
    const put = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/data/${element.id}`,
      headers: { ...app, 'content-type': 'application/json' },
      payload: '{"a":2}',
    });
    expect(put.statusCode).toBe(409);
    expect(put.json().code).toBe('DATA_ELEMENT_LOCKED');
    const del = await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}/data/${element.id}`, headers: app });
    expect(del.statusCode).toBe(409);
    await expectNoOrphans(instance, 1);

    // Sent back to Task_1 (a rejected confirmation): its data is open again, until the process leaves it once more.
    const back = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/process`, headers: app, payload: { started, currentTask: task('Task_1') } });
    expect(back.statusCode).toBe(200);
    expect((await currentInstance(instance)).data[0]?.locked).toBe(false);
    const reopened = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/data/${element.id}`,
      headers: { ...app, 'content-type': 'application/json' },
      payload: '{"a":3}',
    });
    expect(reopened.statusCode).toBe(200);
    await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/process`, headers: app, payload: { started, currentTask: task('Task_2') } });
    expect((await currentInstance(instance)).data[0]?.locked).toBe(true);
  });

  it('deletes a data element and its blob', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, 'attachment', PDF)).json<DataElement>();
    const url = `${instanceUrl(instance)}/data/${element.id}`;
    const removed = await h.app.inject({ method: 'DELETE', url, headers: h.auth.owner });
    // As in Altinn: 200 with the element that was deleted.
    expect(removed.statusCode).toBe(200);
    expect(removed.json<DataElement>()).toMatchObject({ id: element.id, dataType: 'attachment', size: element.size });
    expect((await h.app.inject({ method: 'GET', url, headers: h.auth.owner })).statusCode).toBe(404);
    await expectNoOrphans(instance, 0);
    expect((await h.app.inject({ method: 'DELETE', url, headers: h.auth.owner })).statusCode).toBe(404);
  });

  it('hard-deleting an instance keeps its blobs until the cleanup job removes them after the retention', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, 'attachment', PDF)).json<DataElement>();
    expect(await listStoredBlobs(h.config, blobPrefixOf(instance))).toEqual([element.blobStoragePath]);
    expect((await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: h.auth.nav })).statusCode).toBe(200);
    expect(await listStoredBlobs(h.config, blobPrefixOf(instance))).toEqual([element.blobStoragePath]);
    // Within the retention nothing goes; with none left, the instance and its content do.
    expect(await purgeHardDeleted(h.app.storage.context, h.app.storage.instances, 3_600_000)).toBe(0);
    expect(await purgeHardDeleted(h.app.storage.context, h.app.storage.instances, 0)).toBe(1);
    expect(await listStoredBlobs(h.config, blobPrefixOf(instance))).toEqual([]);
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.nav })).statusCode).toBe(404);
  });

  it('keeps other parties and other orgs away from the data', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, 'attachment', PDF)).json<DataElement>();
    const url = `${instanceUrl(instance)}/data/${element.id}`;
    for (const headers of [h.auth.otherOwner, h.auth.skd, h.auth.system]) {
      expect((await h.app.inject({ method: 'GET', url, headers })).statusCode).toBe(404);
      expect((await h.app.inject({ method: 'DELETE', url, headers })).statusCode).toBe(404);
      const post = await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=attachment`,
        headers: { ...headers, 'content-type': 'application/pdf' },
        payload: PDF,
      });
      expect(post.statusCode).toBe(404);
    }
    const navRead = await h.app.inject({ method: 'GET', url, headers: h.auth.navReadOnly });
    expect(navRead.statusCode).toBe(200);
    const navReadOnlyDelete = await h.app.inject({ method: 'DELETE', url, headers: h.auth.navReadOnly });
    expect(navReadOnlyDelete.statusCode).toBe(403);
    expect(navReadOnlyDelete.json().code).toBe('MISSING_SCOPE');
  });
});
