import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { DomainError, type Instance, type ProcessElementInfo } from '@forms/contracts';
import { parseEtag, StorageClient, type StorageApi } from '../src';
import { OTHER_PARTY, OWNER_PARTY, SAMPLE_APP, startStorage, type StorageHarness } from '../../../services/storage/test/support/storage-harness';
import { pseudoRandomStream, sha256, sha256Of } from '../../../services/storage/test/support/streams';

const APP_ID = 'nav/sample-app';
const MB = 1024 * 1024;

let h: StorageHarness;
let baseUrl: string;
let client: StorageApi;
/** As the app service of APP_ID uses it: its own token beside the party's on every call. */
let appClient: StorageApi;
/** Raw tokens (without `Bearer `) of the harness's callers. */
let tokens: Record<keyof StorageHarness['auth'], string>;

beforeAll(async () => {
  h = await startStorage();
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `${address}/storage/api/v1`;
  client = new StorageClient({ baseUrl, timeoutMs: 5000 });
  const appToken = h.issuer.appToken({ app: APP_ID });
  appClient = new StorageClient({ baseUrl, timeoutMs: 5000, accessToken: async () => appToken });
  tokens = Object.fromEntries(
    Object.entries(h.auth).map(([name, headers]) => [name, (headers.authorization ?? '').replace(/^Bearer /, '')]),
  ) as typeof tokens;
  await client.registerApplication(tokens.nav, APP_ID, SAMPLE_APP);
});
afterAll(() => h.close());

/** The DomainError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const newInstance = () => appClient.createInstance(tokens.owner, APP_ID, { instanceOwner: { partyId: OWNER_PARTY } });

const taskOne: ProcessElementInfo = {
  flow: 2,
  started: '2024-05-01T10:00:00.000Z',
  elementId: 'Task_1',
  altinnTaskType: 'data',
};

/** A TCP server for failure cases; `onSocket` decides what happens to each connection. */
async function tcpServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; url: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/storage/api/v1`, sockets };
}

describe('helpers', () => {
  it('parses strong and weak ETags', () => {
    expect(parseEtag('"7"')).toBe(7);
    expect(parseEtag('W/"12"')).toBe(12);
    expect(parseEtag('abc')).toBeUndefined();
    expect(parseEtag(null)).toBeUndefined();
  });
});

describe('applications', () => {
  it('reads an app, returns null for an unknown one, and updates with a version check', async () => {
    const app = await appClient.getApplication(tokens.owner, APP_ID);
    expect(app).toMatchObject({ id: APP_ID, org: 'nav', version: 1 });
    expect(await client.getApplication(tokens.nav, 'nav/no-such-app')).toBeNull();

    await client.registerApplication(tokens.nav, 'nav/other-app', SAMPLE_APP);
    const updated = await client.updateApplication(tokens.nav, 'nav/other-app', { ...SAMPLE_APP, title: { nb: 'Ny' } }, 1);
    expect(updated).toMatchObject({ version: 2, title: { nb: 'Ny' } });

    const stale = await failure(client.updateApplication(tokens.nav, 'nav/other-app', SAMPLE_APP, 1));
    expect(stale).toMatchObject({ kind: 'precondition_failed', code: 'VERSION_MISMATCH', extensions: { currentVersion: 2 } });
    expect(stale.message).toMatch(/current version is 2/);
  });

  it('maps a duplicate registration to conflict and a foreign org to forbidden', async () => {
    expect(await failure(client.registerApplication(tokens.nav, APP_ID, SAMPLE_APP))).toMatchObject({
      kind: 'conflict',
      code: 'APPLICATION_EXISTS',
    });
    expect(await failure(client.registerApplication(tokens.skd, 'nav/stolen-app', SAMPLE_APP))).toMatchObject({ kind: 'forbidden' });
  });
});

describe('instances', () => {
  it('creates and reads an instance with its version from the ETag', async () => {
    const created = await newInstance();
    expect(created).toMatchObject({ appId: APP_ID, instanceOwner: { partyId: OWNER_PARTY }, version: 1 });
    const { value, version } = await appClient.getInstance(tokens.owner, created.id);
    expect(value.id).toBe(created.id);
    expect(version).toBe(1);
  });

  it('maps unknown and foreign instances to not_found, and a bad token to unauthenticated', async () => {
    const created = await newInstance();
    const foreign = await failure(appClient.getInstance(tokens.otherOwner, created.id));
    expect(foreign).toMatchObject({ kind: 'not_found', code: 'INSTANCE_NOT_FOUND' });
    expect(foreign.extensions).toBeUndefined();
    const unknown = await failure(appClient.getInstance(tokens.owner, `${OTHER_PARTY}/00000000-0000-4000-8000-000000000000`));
    expect(unknown).toMatchObject({ kind: 'not_found', code: 'INSTANCE_NOT_FOUND' });
    expect(await failure(client.getInstance('not-a-token', created.id))).toMatchObject({ kind: 'unauthenticated' });
  });

  it('updates the process with If-Match, sets substatus and data values, confirms, and lists events', async () => {
    const created = await newInstance();
    const started = await appClient.updateProcess(tokens.owner, created.id, { started: taskOne.started, startEvent: 'StartEvent_1', currentTask: taskOne }, 1);
    expect(started.version).toBe(2);
    const stale = await failure(appClient.updateProcess(tokens.owner, created.id, { currentTask: null }, 1));
    expect(stale).toMatchObject({ kind: 'precondition_failed', code: 'VERSION_MISMATCH', extensions: { currentVersion: 2 } });

    const withSubstatus = await client.setSubstatus(tokens.nav, created.id, { label: 'In review' });
    expect(withSubstatus.status.substatus).toEqual({ label: 'In review' });
    expect(await failure(appClient.setSubstatus(tokens.owner, created.id, { label: 'x' }))).toMatchObject({ kind: 'forbidden' });

    const withValues = await appClient.setDataValues(tokens.owner, created.id, { caseNo: '42', gone: null });
    expect(withValues.dataValues).toEqual({ caseNo: '42' });

    const confirmed = await client.confirmComplete(tokens.nav, created.id);
    expect(confirmed.completeConfirmations.map((c) => c.stakeholderId)).toEqual(['nav']);

    const all = await appClient.listEvents(tokens.owner, created.id);
    expect(all.map((e) => e.eventType)).toEqual(expect.arrayContaining(['Created', 'process_StartEvent', 'process_StartTask', 'Saved']));
    const some = await appClient.listEvents(tokens.owner, created.id, { eventTypes: ['Created', 'process_StartTask'] });
    expect(some.map((e) => e.eventType)).toEqual(['Created', 'process_StartTask']);
    const none = await appClient.listEvents(tokens.owner, created.id, { to: '2000-01-01T00:00:00.000Z' });
    expect(none).toEqual([]);
  });

  it('soft-deletes and hard-deletes', async () => {
    const created = await newInstance();
    await appClient.deleteInstance(tokens.owner, created.id);
    expect((await appClient.getInstance(tokens.owner, created.id)).value.status.isSoftDeleted).toBe(true);
    await appClient.deleteInstance(tokens.owner, created.id, { hard: true });
    expect(await failure(appClient.getInstance(tokens.owner, created.id))).toMatchObject({ kind: 'not_found' });
  });
});

describe("Altinn's storage routes", () => {
  it('lists apps without a token, and keeps element metadata, locks, read status, texts, events and history', async () => {
    expect((await client.listApplications()).map((a) => a.id)).toContain(APP_ID);
    const instance = await appClient.createInstance(tokens.owner, APP_ID, {
      instanceOwner: { partyId: OWNER_PARTY },
      process: { started: taskOne.started, startEvent: 'StartEvent_1', currentTask: taskOne },
    });
    const element = await appClient.uploadData(tokens.owner, instance.id, 'model', '{}', { contentType: 'application/json' });
    expect(await client.listDataElements(tokens.owner, instance.id)).toEqual([element]);
    const tagged = await client.updateDataElement(tokens.nav, instance.id, element.id, { tags: ['checked'] }, element.version);
    expect(tagged).toMatchObject({ tags: ['checked'], version: element.version + 1 });
    expect((await appClient.setDataLock(tokens.owner, instance.id, element.id, true)).locked).toBe(true);
    expect((await appClient.setDataLock(tokens.owner, instance.id, element.id, false)).locked).toBe(false);

    expect((await client.setReadStatus(tokens.owner, instance.id, 'Read')).status.readStatus).toBe('Read');
    expect((await appClient.setPresentationTexts(tokens.owner, instance.id, { title: 'T' })).presentationTexts).toEqual({ title: 'T' });
    const signed = await appClient.recordEvent(tokens.owner, instance.id, { eventType: 'Signed' });
    expect(await client.getEvent(tokens.nav, instance.id, signed.id)).toEqual(signed);
    expect((await client.getProcessHistory(tokens.owner, instance.id)).map((item) => item.eventType)).toEqual(['process_StartEvent', 'process_StartTask']);

    expect((await client.deleteInstance(tokens.owner, instance.id)).status.isSoftDeleted).toBe(true);
    await client.restoreInstance(tokens.owner, instance.id);
    expect((await client.getInstance(tokens.owner, instance.id)).value.status.isSoftDeleted).toBe(false);
    expect((await client.deleteInstance(tokens.nav, instance.id, { hard: true })).status.isHardDeleted).toBe(true);
  });
});

describe('queries', () => {
  const PAGING_APP = 'nav/paging-app';
  let ids: string[];
  beforeAll(async () => {
    await client.registerApplication(tokens.nav, PAGING_APP, SAMPLE_APP);
    const pagingAppToken = h.issuer.appToken({ app: PAGING_APP });
    const pagingAppClient = new StorageClient({ baseUrl, timeoutMs: 5000, accessToken: async () => pagingAppToken });
    ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await pagingAppClient.createInstance(tokens.owner, PAGING_APP, { instanceOwner: { partyId: OWNER_PARTY } })).id);
    }
  });

  it('returns one page with a next link', async () => {
    const page = await client.queryInstances(tokens.nav, { appId: PAGING_APP, size: 2 });
    expect(page.count).toBe(2);
    expect(page.next).toContain('continuationToken=');
  });

  it('follows next links across pages until the end', async () => {
    const seen: Instance[] = [];
    for await (const instance of client.queryAllInstances(tokens.nav, { appId: PAGING_APP, size: 2 })) seen.push(instance);
    expect(seen.map((i) => i.id).sort()).toEqual([...ids].sort());
  });

  it('sends booleans and repeated parameters', async () => {
    const seen: string[] = [];
    const query = { appId: PAGING_APP, 'process.isComplete': false, created: ['gte:2000-01-01T00:00:00.000Z', 'lt:2999-01-01T00:00:00.000Z'], size: 3 };
    for await (const instance of client.queryAllInstances(tokens.nav, query)) seen.push(instance.id);
    expect(seen).toHaveLength(5);
  });

  it('maps a refused query to forbidden and a bad one to invalid, with the validation errors', async () => {
    expect(await failure(client.queryInstances(tokens.skd, { appId: PAGING_APP }))).toMatchObject({ kind: 'forbidden' });
    const invalid = await failure(client.queryInstances(tokens.nav, { appId: PAGING_APP, size: 0 }));
    expect(invalid).toMatchObject({ kind: 'invalid', code: 'VALIDATION_FAILED' });
    expect(invalid.extensions?.errors).toEqual(expect.any(Array));
  });
});

describe('data', () => {
  it('uploads, downloads (with a non-ASCII filename), replaces with If-Match and deletes', async () => {
    const instance = await newInstance();
    const content = JSON.stringify({ name: 'Kari' });
    const element = await appClient.uploadData(tokens.owner, instance.id, 'model', content, {
      contentType: 'application/json',
      filename: 'søknad «1».json',
    });
    expect(element).toMatchObject({ dataType: 'model', filename: 'søknad «1».json', size: content.length, contentHash: sha256(content), version: 1 });

    const download = await appClient.downloadData(tokens.owner, instance.id, element.id);
    expect(download).toMatchObject({ contentType: 'application/json', size: content.length, filename: 'søknad «1».json', version: 1 });
    expect((await sha256Of(download.body)).hash).toBe(sha256(content));

    const replacement = Buffer.from('{"name":"Ola"}');
    const replaced = await appClient.replaceData(tokens.owner, instance.id, element.id, replacement, { contentType: 'application/json', expectedVersion: 1 });
    expect(replaced).toMatchObject({ version: 2, contentHash: sha256(replacement) });
    const stale = await failure(appClient.replaceData(tokens.owner, instance.id, element.id, 'x', { contentType: 'application/json', expectedVersion: 1 }));
    expect(stale).toMatchObject({ kind: 'precondition_failed', code: 'VERSION_MISMATCH' });

    expect(await failure(appClient.deleteData(tokens.owner, instance.id, element.id, 1))).toMatchObject({ kind: 'precondition_failed' });
    expect(await appClient.deleteData(tokens.owner, instance.id, element.id, 2)).toMatchObject({ id: element.id, version: 2 });
    expect(await failure(appClient.downloadData(tokens.owner, instance.id, element.id))).toMatchObject({
      kind: 'not_found',
      code: 'DATA_ELEMENT_NOT_FOUND',
    });
  });

  it('maps max count to conflict, a disallowed type to unsupported_media_type and an unknown type to invalid', async () => {
    const instance = await newInstance();
    await appClient.uploadData(tokens.owner, instance.id, 'model', '{}', { contentType: 'application/json' });
    expect(await failure(appClient.uploadData(tokens.owner, instance.id, 'model', '{}', { contentType: 'application/json' }))).toMatchObject({
      kind: 'conflict',
      code: 'DATA_TYPE_MAX_COUNT',
    });
    expect(await failure(appClient.uploadData(tokens.owner, instance.id, 'attachment', 'hi', { contentType: 'text/plain' }))).toMatchObject({
      kind: 'unsupported_media_type',
      code: 'CONTENT_TYPE_NOT_ALLOWED',
    });
    expect(await failure(appClient.uploadData(tokens.owner, instance.id, 'nope', 'hi', { contentType: 'text/plain' }))).toMatchObject({
      kind: 'invalid',
      code: 'DATA_TYPE_NOT_FOUND',
    });
  });

  it('maps an oversize upload to too_large, with and without a declared length, and stops sending', async () => {
    const instance = await newInstance();
    const declared = pseudoRandomStream(2 * MB, 3);
    expect(
      await failure(appClient.uploadData(tokens.owner, instance.id, 'attachment', declared, { contentType: 'application/pdf', contentLength: 2 * MB })),
    ).toMatchObject({ kind: 'too_large', code: 'DATA_TOO_LARGE' });
    // A PDF's head, so the content check lets it pass and the size limit is what trips.
    const streamed = new PassThrough();
    streamed.write('%PDF-1.7\n');
    pseudoRandomStream(20 * MB, 4).pipe(streamed);
    expect(await failure(appClient.uploadData(tokens.owner, instance.id, 'attachment', streamed, { contentType: 'application/pdf' }))).toMatchObject({
      kind: 'too_large',
      code: 'DATA_TOO_LARGE',
    });
    expect(streamed.destroyed).toBe(true);
    expect((await appClient.getInstance(tokens.owner, instance.id)).value.data).toEqual([]);
  });

  it('streams a 30 MB upload and download', async () => {
    const instance = await newInstance();
    const size = 30 * MB;
    const expected = await sha256Of(pseudoRandomStream(size, 42));
    const element = await appClient.uploadData(tokens.owner, instance.id, 'bigfile', pseudoRandomStream(size, 42), {
      contentType: 'application/octet-stream',
      filename: 'big.bin',
      contentLength: size,
    });
    expect(element).toMatchObject({ size, contentHash: expected.hash });

    const chunked = await appClient.uploadData(tokens.owner, instance.id, 'bigfile', pseudoRandomStream(size, 42), { contentType: 'application/octet-stream' });
    expect(chunked).toMatchObject({ size, contentHash: expected.hash });

    const download = await appClient.downloadData(tokens.owner, instance.id, element.id);
    expect(download).toMatchObject({ size, filename: 'big.bin', contentType: 'application/octet-stream' });
    expect(await sha256Of(download.body)).toEqual(expected);
  });

  it('downloads byte ranges and maps an unsatisfiable range', async () => {
    const instance = await newInstance();
    const content = Buffer.from('0123456789abcdefghij');
    const element = await appClient.uploadData(tokens.owner, instance.id, 'bigfile', content, { contentType: 'application/octet-stream' });
    const part = await appClient.downloadData(tokens.owner, instance.id, element.id, { range: { start: 5, end: 9 } });
    expect(part.size).toBe(5);
    expect((await sha256Of(part.body)).hash).toBe(sha256(content.subarray(5, 10)));
    const outside = await failure(appClient.downloadData(tokens.owner, instance.id, element.id, { range: { start: 100, end: 200 } }));
    expect(outside).toMatchObject({ kind: 'range_not_satisfiable', code: 'RANGE_NOT_SATISFIABLE', extensions: { size: 20 } });
  });

  it('passes on the failure of the caller’s own upload stream', async () => {
    const instance = await newInstance();
    const broken = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(appClient.uploadData(tokens.owner, instance.id, 'bigfile', broken, { contentType: 'application/octet-stream' })).rejects.toThrow(
      'client went away',
    );
  });
});

describe('availability', () => {
  it('is ready when storage is', async () => {
    await expect(client.ready()).resolves.toBeUndefined();
  });

  it('times out while waiting for headers, but not while the body streams', async () => {
    const silent = await tcpServer(() => undefined);
    try {
      const slowClient = new StorageClient({ baseUrl: silent.url, timeoutMs: 300 });
      const started = Date.now();
      expect(await failure(slowClient.getInstance('t', `${OWNER_PARTY}/00000000-0000-4000-8000-000000000000`))).toMatchObject({
        kind: 'timeout',
        code: 'STORAGE_TIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await failure(slowClient.ready())).toMatchObject({ code: 'STORAGE_TIMEOUT' });
    } finally {
      silent.sockets.forEach((s) => s.destroy());
      silent.server.close();
    }

    // Against real storage: a download read slowly outlives the timer.
    const quickClient = new StorageClient({ baseUrl, timeoutMs: 300, accessToken: async () => h.issuer.appToken({ app: APP_ID }) });
    const instance = await newInstance();
    const element = await quickClient.uploadData(tokens.owner, instance.id, 'bigfile', pseudoRandomStream(4 * MB, 5), { contentType: 'application/octet-stream' });
    const download = await quickClient.downloadData(tokens.owner, instance.id, element.id);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await sha256Of(download.body)).hash).toBe(element.contentHash);
  });

  it('maps a closed port, a reset connection and a 5xx without problem body to unavailable', async () => {
    const closed = await tcpServer(() => undefined);
    closed.server.close();
    const down = new StorageClient({ baseUrl: closed.url, timeoutMs: 1000 });
    expect(await failure(down.getApplication('t', APP_ID))).toMatchObject({ kind: 'unavailable', code: 'STORAGE_UNAVAILABLE' });
    expect(await failure(down.ready())).toMatchObject({ kind: 'unavailable', code: 'STORAGE_UNAVAILABLE' });

    const resetting = await tcpServer((socket) => socket.resetAndDestroy());
    try {
      const reset = new StorageClient({ baseUrl: resetting.url, timeoutMs: 1000 });
      expect(await failure(reset.queryInstances('t', { org: 'nav' }))).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    } finally {
      resetting.server.close();
    }

    const gateway = createHttpServer((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'));
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const behindProxy = new StorageClient({ baseUrl: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/storage/api/v1`, timeoutMs: 1000 });
      expect(await failure(behindProxy.getInstance('t', `${OWNER_PARTY}/00000000-0000-4000-8000-000000000000`))).toMatchObject({
        kind: 'unavailable',
        code: 'STORAGE_UNAVAILABLE',
      });
      expect(await failure(behindProxy.ready())).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    } finally {
      gateway.close();
    }
  });
});
