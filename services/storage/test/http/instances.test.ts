import type { Instance, InstanceEvent } from '@forms/contracts';
import { API, OWNER_PARTY, createInstance, instanceUrl, registerApp, startStorage, viaApp, type StorageHarness } from '../support/storage-harness';

let h: StorageHarness;
beforeAll(async () => {
  h = await startStorage();
  await registerApp(h);
});
afterAll(() => h.close());

const events = async (instance: Instance, query = '') => {
  const response = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events${query}`, headers: h.auth.owner });
  expect(response.statusCode).toBe(200);
  return response.json<{ instanceEvents: InstanceEvent[] }>().instanceEvents;
};

describe('creating and reading instances', () => {
  it('creates an instance with the Altinn shape, a Location, an ETag and a Created event', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: viaApp(h, h.auth.owner),
      payload: { instanceOwner: { partyId: OWNER_PARTY, personNumber: '01017012345' }, dueBefore: '2030-01-01T00:00:00Z' },
    });
    expect(response.statusCode).toBe(201);
    const instance = response.json<Instance>();
    expect(instance.id).toMatch(new RegExp(`^${OWNER_PARTY}/[0-9a-f-]{36}$`));
    expect(instance).toMatchObject({
      appId: 'nav/sample-app',
      org: 'nav',
      instanceOwner: { partyId: OWNER_PARTY, personNumber: '01017012345' },
      dueBefore: '2030-01-01T00:00:00.000Z',
      status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread' },
      completeConfirmations: [],
      data: [],
      version: 1,
      createdBy: '1001',
    });
    expect(response.headers.location).toBe(instance.selfLinks.platform);
    expect(instance.selfLinks.platform).toMatch(new RegExp(`/storage/api/v1/instances/${instance.id}$`));
    expect(response.headers.etag).toBe('"1"');

    const read = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(instance);
    expect((await events(instance)).map((e) => e.eventType)).toEqual(['Created']);
  });

  it('refuses an unknown app, and a body with unknown fields', async () => {
    const unknownApp = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/no-such-app`,
      headers: h.auth.owner,
      payload: { instanceOwner: { partyId: OWNER_PARTY } },
    });
    expect(unknownApp.statusCode).toBe(404);
    expect(unknownApp.json().code).toBe('APPLICATION_NOT_FOUND');
    const extra = await h.app.inject({
      method: 'POST',
      url: `${API}/instances?appId=nav/sample-app`,
      headers: h.auth.owner,
      payload: { instanceOwner: { partyId: OWNER_PARTY }, id: 'mine' },
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().code).toBe('VALIDATION_FAILED');
  });

  it('answers 404 for an unknown guid and for a guid under the wrong party', async () => {
    const instance = await createInstance(h);
    const guid = instance.id.split('/')[1];
    for (const url of [`${API}/instances/${OWNER_PARTY}/00000000-0000-4000-8000-000000000000`, `${API}/instances/50009/${guid}`]) {
      const response = await h.app.inject({ method: 'GET', url, headers: h.auth.owner });
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('INSTANCE_NOT_FOUND');
    }
    const malformed = await h.app.inject({ method: 'GET', url: `${API}/instances/${OWNER_PARTY}/not-a-guid`, headers: h.auth.owner });
    expect(malformed.statusCode).toBe(400);
  });
});

describe('process, status and data values', () => {
  const taskOne = { flow: 2, started: '2024-05-01T10:00:00.000Z', elementId: 'Task_1', altinnTaskType: 'data' as const };

  it('records process changes as process events and guards them with If-Match', async () => {
    const instance = await createInstance(h);
    const started = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/process`,
      headers: { ...viaApp(h, h.auth.owner), 'if-match': '"1"' },
      payload: { started: taskOne.started, startEvent: 'StartEvent_1', currentTask: taskOne },
    });
    expect(started.statusCode).toBe(200);
    expect(started.headers.etag).toBe('"2"');

    const stale = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/process`,
      headers: { ...viaApp(h, h.auth.owner), 'if-match': '"1"' },
      payload: { started: taskOne.started, ended: '2024-05-01T11:00:00.000Z', endEvent: 'EndEvent_1', currentTask: null },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: 2 });

    const ended = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/process`,
      headers: { ...viaApp(h, h.auth.owner), 'if-match': '"2"' },
      payload: { started: taskOne.started, ended: '2024-05-01T11:00:00.000Z', endEvent: 'EndEvent_1', currentTask: null },
    });
    expect(ended.statusCode).toBe(200);
    expect(ended.json<Instance>().process.endEvent).toBe('EndEvent_1');
    expect((await events(instance)).map((e) => e.eventType)).toEqual([
      'Created',
      'process_StartEvent',
      'process_StartTask',
      'process_EndTask',
      'process_EndEvent',
      'Submited',
    ]);
    const processEvents = await events(instance, '?eventTypes=process_EndTask&eventTypes=Submited');
    expect(processEvents.map((e) => e.eventType)).toEqual(['process_EndTask', 'Submited']);
    // The audit names the party and the app it acted through; the ended task's event names that task.
    expect(processEvents[0]?.user).toEqual({ userId: '1001', authenticationLevel: 2, appId: 'nav/sample-app' });
    expect(processEvents[0]?.processInfo?.currentTask?.elementId).toBe('Task_1');
  });

  it('lets the app owner set a substatus, but not the instance owner', async () => {
    const instance = await createInstance(h);
    const bySelf = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/substatus`,
      headers: h.auth.owner,
      payload: { label: 'accepted' },
    });
    expect(bySelf.statusCode).toBe(403);
    const byOrg = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/substatus`,
      headers: h.auth.nav,
      payload: { label: 'accepted', description: 'Your application is accepted' },
    });
    expect(byOrg.statusCode).toBe(200);
    expect(byOrg.json<Instance>().status.substatus).toEqual({ label: 'accepted', description: 'Your application is accepted' });
  });

  it('sets the read status and merges data values (null removes a key)', async () => {
    const instance = await createInstance(h, { body: { dataValues: { a: '1', b: '2' } } });
    const read = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/readstatus?status=Read`, headers: h.auth.owner });
    expect(read.json<Instance>().status.readStatus).toBe('Read');
    const badStatus = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/readstatus?status=Maybe`, headers: h.auth.owner });
    expect(badStatus.statusCode).toBe(400);
    const values = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(instance)}/datavalues`,
      headers: viaApp(h, h.auth.owner),
      payload: { values: { b: null, c: '3' } },
    });
    expect(values.statusCode).toBe(200);
    expect(values.json<Instance>().dataValues).toEqual({ a: '1', c: '3' });
    expect(values.json<Instance>().version).toBe(3);
  });

  it('applies concurrent writes without If-Match one after another, losing none', async () => {
    const instance = await createInstance(h);
    const writes = Array.from({ length: 10 }, (_, i) =>
      h.app.inject({
        method: 'PUT',
        url: `${instanceUrl(instance)}/datavalues`,
        headers: viaApp(h, h.auth.owner),
        payload: { values: { [`key${i}`]: String(i) } },
      }),
    );
    const responses = await Promise.all(writes);
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const final = (await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).json<Instance>();
    expect(Object.keys(final.dataValues)).toHaveLength(10);
    expect(final.version).toBe(11);
  });
});

describe('confirming downloads and deleting', () => {
  it('confirms completion idempotently for the owning org only', async () => {
    const instance = await createInstance(h);
    const byOwner = await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/complete`, headers: h.auth.owner });
    expect(byOwner.statusCode).toBe(403);
    const bySkd = await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/complete`, headers: h.auth.skd });
    expect(bySkd.statusCode).toBe(404);

    const first = await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/complete`, headers: h.auth.nav });
    expect(first.statusCode).toBe(200);
    const second = await h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/complete`, headers: h.auth.nav });
    expect(second.statusCode).toBe(200);
    expect(second.json<Instance>().completeConfirmations).toEqual([
      { stakeholderId: 'nav', confirmedOn: first.json<Instance>().completeConfirmations[0]?.confirmedOn },
    ]);
    expect(second.json<Instance>().version).toBe(first.json<Instance>().version);
    expect((await events(instance, '?eventTypes=ConfirmedComplete')).length).toBe(1);
  });

  it('soft-deletes (kept, flagged) and hard-deletes (marked, hidden from all but the org, events kept)', async () => {
    const instance = await createInstance(h);
    const soft = await h.app.inject({ method: 'DELETE', url: instanceUrl(instance), headers: h.auth.owner });
    expect(soft.statusCode).toBe(200);
    expect(soft.json<Instance>().status).toMatchObject({ isSoftDeleted: true });
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);

    const byOwner = await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: h.auth.owner });
    expect(byOwner.statusCode).toBe(403);
    expect(byOwner.json().code).toBe('ORG_REQUIRED');
    const staleHard = await h.app.inject({
      method: 'DELETE',
      url: `${instanceUrl(instance)}?hard=true`,
      headers: { ...h.auth.nav, 'if-match': '"1"' },
    });
    expect(staleHard.statusCode).toBe(412);
    const hard = await h.app.inject({ method: 'DELETE', url: `${instanceUrl(instance)}?hard=true`, headers: h.auth.nav });
    // Altinn's hard delete: 200 with the instance, marked; the cleanup job removes it after the retention.
    expect(hard.statusCode).toBe(200);
    expect(hard.json<Instance>().status).toMatchObject({ isHardDeleted: true, isSoftDeleted: true, hardDeleted: expect.any(String) });
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.nav })).statusCode).toBe(200);
    const remaining = await h.app.storage.context.store.events.list(instance.id, {});
    expect(remaining.map((e) => e.eventType)).toEqual(['Created', 'Deleted', 'Deleted']);
  });

  it('filters events by time', async () => {
    const instance = await createInstance(h);
    const [created] = await events(instance);
    const after = await events(instance, `?from=${encodeURIComponent(new Date(Date.parse(created!.created) + 1).toISOString())}`);
    expect(after).toEqual([]);
    const until = await events(instance, `?to=${encodeURIComponent(created!.created)}`);
    expect(until.map((e) => e.id)).toEqual([created!.id]);
    const bad = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events?from=yesterday`, headers: h.auth.owner });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_TIMESTAMP');
  });
});
