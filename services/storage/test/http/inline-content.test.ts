import { Readable } from 'node:stream';
import type { DataElement, Instance } from '@forms/contracts';
import { createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { sha256 } from '../support/streams';
import { blobPrefixOf, listBlobFiles, listInlineContents } from '../support/blob-listing';

/** A PDF of exactly `size` bytes. */
const pdf = (size: number, fill = 7) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(size - 16, fill), Buffer.from('\n%%EOF\n')]);
const LIMIT = 1024;

/**
 * Small content on the embedded store (ADR 0018): up to INLINE_CONTENT_MAX_KB it is kept in the metadata
 * database, in the write that records its element; above it, in a blob file. Readers and deleters see no difference.
 */
describe('small content kept in the embedded metadata store', () => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage('embedded', { INLINE_CONTENT_MAX_KB: '1' });
    await registerApp(h);
  });
  afterAll(() => h.close());

  const upload = (instance: Instance, body: Buffer | Readable, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: `${instanceUrl(instance)}/data?dataType=attachment`,
      headers: { ...h.auth.owner, 'content-type': 'application/pdf', ...headers },
      payload: body,
    });
  const download = (instance: Instance, element: DataElement, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/data/${element.id}`, headers: { ...h.auth.owner, ...headers } });
  const where = async (instance: Instance) => ({
    inline: listInlineContents(h.config, blobPrefixOf(instance)),
    files: await listBlobFiles(h.config, blobPrefixOf(instance)),
  });
  const noPendingUploads = async () => expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 100)).toEqual([]);

  it.each([
    ['with Content-Length', (body: Buffer) => body, {}],
    ['streamed without a length', (body: Buffer) => Readable.from([body.subarray(0, 100), body.subarray(100)]), { 'transfer-encoding': 'chunked' }],
  ])('keeps content up to the limit inline and larger content in a file (%s)', async (_name, payload, headers) => {
    const instance = await createInstance(h);
    const small = pdf(LIMIT);
    const large = pdf(LIMIT + 1, 8);
    const inline = (await upload(instance, payload(small), headers)).json<DataElement>();
    const file = (await upload(instance, payload(large), headers)).json<DataElement>();
    expect(inline).toMatchObject({ size: LIMIT, contentHash: sha256(small) });
    expect(file).toMatchObject({ size: LIMIT + 1, contentHash: sha256(large) });
    expect(await where(instance)).toEqual({ inline: [inline.blobStoragePath], files: [file.blobStoragePath] });
    expect(sha256((await download(instance, inline)).rawPayload)).toBe(sha256(small));
    expect(sha256((await download(instance, file)).rawPayload)).toBe(sha256(large));
    await noPendingUploads();
  });

  it('streams a large upload whole after looking at its first bytes', async () => {
    const instance = await createInstance(h);
    const body = pdf(900_000, 3);
    const chunks = Array.from({ length: 90 }, (_, i) => body.subarray(i * 10_000, (i + 1) * 10_000));
    const element = (await upload(instance, Readable.from(chunks), { 'transfer-encoding': 'chunked' })).json<DataElement>();
    expect(element).toMatchObject({ size: body.length, contentHash: sha256(body) });
    expect(await where(instance)).toEqual({ inline: [], files: [element.blobStoragePath] });
    expect(sha256((await download(instance, element)).rawPayload)).toBe(sha256(body));
  });

  it('serves ranges of inline content as of a file: clamped at the end, 416 past it', async () => {
    const instance = await createInstance(h);
    const small = pdf(500);
    const element = (await upload(instance, small)).json<DataElement>();
    const part = await download(instance, element, { range: 'bytes=10-19' });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload).toEqual(small.subarray(10, 20));
    expect(part.headers['content-range']).toBe(`bytes 10-19/${small.length}`);
    const tail = await download(instance, element, { range: 'bytes=490-9999' });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload).toEqual(small.subarray(490));
    expect((await download(instance, element, { range: 'bytes=500-600' })).statusCode).toBe(416);
  });

  it('replaces and deletes inline content like a file: the old content goes, nothing is left behind', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, pdf(300))).json<DataElement>();
    const url = `${instanceUrl(instance)}/data/${element.id}`;
    const headers = { ...h.auth.owner, 'content-type': 'application/pdf' };
    const toFile = (await h.app.inject({ method: 'PUT', url, headers, payload: pdf(5000) })).json<DataElement>();
    expect(await where(instance)).toEqual({ inline: [], files: [toFile.blobStoragePath] });
    const back = (await h.app.inject({ method: 'PUT', url, headers, payload: pdf(400, 9) })).json<DataElement>();
    expect(await where(instance)).toEqual({ inline: [back.blobStoragePath], files: [] });
    expect(sha256((await download(instance, back)).rawPayload)).toBe(sha256(pdf(400, 9)));
    expect((await h.app.inject({ method: 'DELETE', url, headers: h.auth.owner })).statusCode).toBe(200);
    expect(await where(instance)).toEqual({ inline: [], files: [] });
    await noPendingUploads();
  });

  it('refuses small content that is not what it claims, leaving nothing behind', async () => {
    const instance = await createInstance(h);
    const refused = await upload(instance, Buffer.from('<html>not a pdf</html>'));
    expect(refused.statusCode).toBe(415);
    const empty = await upload(instance, Readable.from([]), { 'transfer-encoding': 'chunked' });
    expect(empty.statusCode).toBe(415); // a PDF without its header and trailer: judged before its emptiness
    expect(await where(instance)).toEqual({ inline: [], files: [] });
    await noPendingUploads();
  });

  it('keeps everything in files when INLINE_CONTENT_MAX_KB is 0', async () => {
    const off = await startStorage('embedded', { INLINE_CONTENT_MAX_KB: '0' });
    try {
      await registerApp(off);
      const instance = await createInstance(off);
      const response = await off.app.inject({
        method: 'POST',
        url: `${instanceUrl(instance)}/data?dataType=attachment`,
        headers: { ...off.auth.owner, 'content-type': 'application/pdf' },
        payload: pdf(100),
      });
      const element = response.json<DataElement>();
      expect(listInlineContents(off.config, blobPrefixOf(instance))).toEqual([]);
      expect(await listBlobFiles(off.config, blobPrefixOf(instance))).toEqual([element.blobStoragePath]);
    } finally {
      await off.close();
    }
  });
});
