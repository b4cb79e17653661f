import type { Application, DataElement, Instance, InstanceEvent } from '@forms/contracts';
import { API, SAMPLE_APP, createInstance, instanceUrl, registerApp, startStorage, viaApp, type StorageHarness } from '../../support/storage-harness';

/** Altinn's DataElements, Data lock, InstanceEvents, Process history and Applications routes. */
let h: StorageHarness;
let app: Record<string, string>;
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const at = '2024-05-01T10:00:00.000Z';
const task = (elementId: string, started = at) => ({ flow: 2, started, elementId, altinnTaskType: 'data' as const });

beforeAll(async () => {
  h = await startStorage();
  await registerApp(h, 'nav/sample-app');
  app = viaApp(h, h.auth.owner);
});
afterAll(() => h.close());

const upload = (instance: Instance, body: Buffer, headers: Record<string, string> = h.auth.owner, extra: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/data?dataType=attachment`, headers: { ...headers, 'content-type': 'application/pdf', ...extra }, payload: body });

describe('data elements', () => {
  it('refuses an empty upload with 400 and stores nothing', async () => {
    const instance = await createInstance(h);
    const empty = await upload(instance, Buffer.alloc(0));
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('DATA_EMPTY');
    const chunked = await upload(instance, Buffer.alloc(0), h.auth.owner, { 'transfer-encoding': 'chunked' });
    expect(chunked.statusCode).toBe(400);
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).json<Instance>().data).toEqual([]);
    expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
  });

  it('lists the elements (GET dataelements) and updates their metadata (PUT dataelements/{id})', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, PDF)).json<DataElement>();
    const list = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/dataelements`, headers: h.auth.owner });
    expect(list.json()).toEqual({ dataElements: [element] });
    expect((await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/dataelements`, headers: h.auth.otherOwner })).statusCode).toBe(404);

    const url = `${instanceUrl(instance)}/dataelements/${element.id}`;
    // Altinn clients send the whole element back: members storage owns are ignored.
    const payload = {
      ...element,
      size: 1,
      blobStoragePath: 'elsewhere',
      tags: ['invoice'],
      refs: [element.id],
      references: [{ value: 'Task_1', relation: 'generatedFrom', valueType: 'task' }],
      metadata: [{ key: 'source', value: 'scanner' }],
      userDefinedMetadata: [{ key: 'note', value: 'from the owner' }],
    };
    const updated = await h.app.inject({ method: 'PUT', url, headers: h.auth.owner, payload });
    expect(updated.statusCode).toBe(200);
    expect(updated.json<DataElement>()).toMatchObject({
      size: element.size,
      blobStoragePath: element.blobStoragePath,
      tags: ['invoice'],
      refs: [element.id],
      references: payload.references,
      metadata: payload.metadata,
      userDefinedMetadata: payload.userDefinedMetadata,
      version: element.version + 1,
    });
    const stale = await h.app.inject({ method: 'PUT', url, headers: { ...h.auth.owner, 'if-match': `"${element.version}"` }, payload: { tags: [] } });
    expect(stale.statusCode).toBe(412);
  });

  it('locks and unlocks an element (app or org only); a locked element refuses changes', async () => {
    const instance = await createInstance(h);
    const element = (await upload(instance, PDF)).json<DataElement>();
    const lockUrl = `${instanceUrl(instance)}/data/${element.id}/lock`;
    const byParty = await h.app.inject({ method: 'PUT', url: lockUrl, headers: h.auth.owner });
    expect(byParty.statusCode).toBe(403);
    const locked = await h.app.inject({ method: 'PUT', url: lockUrl, headers: app });
    expect(locked.statusCode).toBe(200);
    expect(locked.json<DataElement>().locked).toBe(true);
    const replace = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/data/${element.id}`, headers: { ...h.auth.owner, 'content-type': 'application/pdf' }, payload: PDF });
    expect(replace.json().code).toBe('DATA_ELEMENT_LOCKED');
    const tags = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/dataelements/${element.id}`, headers: h.auth.owner, payload: { tags: ['x'] } });
    expect(tags.json().code).toBe('DATA_ELEMENT_LOCKED');
    const unlocked = await h.app.inject({ method: 'DELETE', url: lockUrl, headers: h.auth.nav });
    expect(unlocked.statusCode).toBe(200);
    expect(unlocked.json<DataElement>().locked).toBe(false);
  });
});

describe('events and process history', () => {
  it('lets the app record its own events; never the party or the org; GET events/{id} reads one', async () => {
    const instance = await createInstance(h);
    const url = `${instanceUrl(instance)}/events`;
    const payload = { eventType: 'Signed', instanceId: 'forged/id', user: { userId: 'someone-else' } };
    for (const headers of [h.auth.owner, h.auth.nav]) expect((await h.app.inject({ method: 'POST', url, headers, payload })).statusCode).toBe(403);
    const recorded = await h.app.inject({ method: 'POST', url, headers: app, payload });
    expect(recorded.statusCode).toBe(201);
    const event = recorded.json<InstanceEvent>();
    expect(event).toMatchObject({ eventType: 'Signed', instanceId: instance.id, user: { userId: '1001', appId: 'nav/sample-app' } });
    expect(recorded.headers.location).toMatch(new RegExp(`/events/${event.id}$`));

    const read = await h.app.inject({ method: 'GET', url: `${url}/${event.id}`, headers: h.auth.owner });
    expect(read.json()).toEqual(event);
    const other = await createInstance(h);
    expect((await h.app.inject({ method: 'GET', url: `${instanceUrl(other)}/events/${event.id}`, headers: h.auth.owner })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: `${url}/${event.id}`, headers: h.auth.otherOwner })).statusCode).toBe(404);
  });

  it('answers GET process/history in Altinn’s shape, oldest first', async () => {
    const instance = await createInstance(h, { body: { process: { started: at, startEvent: 'StartEvent_1', currentTask: task('Task_1') } } });
    const toTask2 = { started: at, startEvent: 'StartEvent_1', currentTask: task('Task_2', '2024-05-01T11:00:00.000Z') };
    expect((await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/process`, headers: app, payload: toTask2 })).statusCode).toBe(200);
    const history = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/process/history`, headers: h.auth.nav });
    expect(history.statusCode).toBe(200);
    expect(history.json()).toEqual({
      processHistory: [
        { eventType: 'process_StartEvent', elementId: 'StartEvent_1', occured: expect.any(String), started: at, ended: null, performedBy: '1001' },
        { eventType: 'process_StartTask', elementId: 'Task_1', occured: expect.any(String), started: at, ended: null, performedBy: '1001' },
        { eventType: 'process_EndTask', elementId: 'Task_1', occured: expect.any(String), started: at, ended: expect.any(String), performedBy: '1001' },
        { eventType: 'process_StartTask', elementId: 'Task_2', occured: expect.any(String), started: '2024-05-01T11:00:00.000Z', ended: null, performedBy: '1001' },
      ],
    });
  });
});

describe('applications', () => {
  it('lists every app, and reads app metadata without a token', async () => {
    await registerApp(h, 'skd/tax-return', SAMPLE_APP);
    const all = await h.app.inject({ method: 'GET', url: `${API}/applications` });
    expect(all.statusCode).toBe(200);
    expect(all.json<{ applications: Application[] }>().applications.map((a) => a.id)).toEqual(expect.arrayContaining(['nav/sample-app', 'skd/tax-return']));
    expect((await h.app.inject({ method: 'GET', url: `${API}/applications/nav/sample-app` })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: `${API}/applications/nav` })).json<{ applications: Application[] }>().applications.map((a) => a.id)).toContain(
      'nav/sample-app',
    );
    // Writes still need the org.
    expect((await h.app.inject({ method: 'DELETE', url: `${API}/applications/nav/sample-app` })).statusCode).toBe(401);
  });

  it('retires an app on DELETE (no new instances), and removes it with hard=true only while it has no instances', async () => {
    await registerApp(h, 'nav/retired');
    await createInstance(h, { appId: 'nav/retired' });
    const url = `${API}/applications/nav/retired`;
    expect((await h.app.inject({ method: 'DELETE', url, headers: h.auth.skd })).statusCode).toBe(403);
    const retired = await h.app.inject({ method: 'DELETE', url, headers: h.auth.nav });
    expect(retired.statusCode).toBe(200);
    expect(retired.json<Application>().validTo).toEqual(expect.any(String));
    await expect(createInstance(h, { appId: 'nav/retired' })).rejects.toThrow(/409.*APPLICATION_RETIRED/);
    const hard = await h.app.inject({ method: 'DELETE', url: `${url}?hard=true`, headers: h.auth.nav });
    expect(hard.statusCode).toBe(409);
    expect(hard.json().code).toBe('APPLICATION_HAS_INSTANCES');

    await registerApp(h, 'nav/unused');
    const removed = await h.app.inject({ method: 'DELETE', url: `${API}/applications/nav/unused?hard=true`, headers: h.auth.nav });
    expect(removed.statusCode).toBe(200);
    expect(removed.json<Application>().id).toBe('nav/unused');
    expect((await h.app.inject({ method: 'GET', url: `${API}/applications/nav/unused` })).statusCode).toBe(404);
  });
});
