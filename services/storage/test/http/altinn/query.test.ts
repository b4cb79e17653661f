import { Scopes, type Instance, type InstanceQueryResponse } from '@forms/contracts';
import { parseIsoTime } from '../../../src/domain/instance-query';
import { API, OTHER_PARTY, OWNER_PARTY, bearer, createInstance, instanceUrl, registerApp, startStorage, viaApp, type StorageHarness } from '../../support/storage-harness';

/** Altinn's query parameters and their meaning (InstancesController.GetInstances, InstanceQueryParameters). */
let h: StorageHarness;
const at = '2024-05-01T10:00:00.000Z';
const inTask = { started: at, startEvent: 'StartEvent_1', currentTask: { flow: 2, started: at, elementId: 'Task_1', altinnTaskType: 'data' } };
const ended = (when: string) => ({ started: at, startEvent: 'StartEvent_1', ended: when, endEvent: 'EndEvent_1' });

let open: Instance;
let endedMarch: Instance;
let endedMay: Instance;
let otherParty: Instance;

beforeAll(async () => {
  h = await startStorage();
  await registerApp(h, 'nav/sample-app');
  const app = viaApp(h, h.auth.owner);
  const end = async (instance: Instance, when: string) => {
    const moved = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/process`, headers: app, payload: ended(when) });
    expect(moved.statusCode).toBe(200);
    return moved.json<Instance>();
  };
  open = await createInstance(h, { body: { process: inTask } });
  endedMarch = await end(await createInstance(h, { body: { process: inTask } }), '2019-03-15T08:00:00.000Z');
  endedMay = await end(await createInstance(h, { body: { process: inTask } }), '2019-05-02T08:00:00.000Z');
  otherParty = await createInstance(h, { partyId: OTHER_PARTY, headers: h.auth.otherOwner, body: { process: inTask } });
  // nav confirms the March one.
  expect((await h.app.inject({ method: 'POST', url: `${instanceUrl(endedMarch)}/complete`, headers: h.auth.nav })).statusCode).toBe(200);
});
afterAll(() => h.close());

const query = async (params: string, headers: Record<string, string> = h.auth.nav) => {
  const response = await h.app.inject({ method: 'GET', url: `${API}/instances?${params}`, headers });
  return { status: response.statusCode, body: response.json<InstanceQueryResponse & { code?: string }>() };
};
const idsOf = async (params: string, headers?: Record<string, string>) => {
  const { status, body } = await query(params, headers);
  expect(status).toBe(200);
  return body.instances.map((i) => i.id).sort();
};
const sorted = (...instances: Instance[]) => instances.map((i) => i.id).sort();

describe("Altinn's query parameters", () => {
  it('matches parameter names in any letter case', async () => {
    expect(await idsOf('APPID=nav/sample-app&Process.IsComplete=true')).toEqual(sorted(endedMarch, endedMay));
    expect(await idsOf('org=nav&process.iscomplete=false&INSTANCEOWNER.PARTYID=' + OWNER_PARTY)).toEqual(sorted(open));
  });

  it('filters on process.ended, with reduced-precision dates', async () => {
    expect(await idsOf('org=nav&process.ended=gt:2019-04')).toEqual(sorted(endedMay));
    expect(await idsOf('org=nav&process.ended=gte:2019&process.ended=lt:2019-04')).toEqual(sorted(endedMarch));
    expect(await idsOf('org=nav&process.ended=lte:2019-03-15T08')).toEqual(sorted(endedMarch));
    const bad = await query('org=nav&process.ended=gt:2019-13');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_TIMESTAMP');
  });

  it('reads reduced-precision ISO times as the first instant they name, in UTC', () => {
    expect(parseIsoTime('2019')?.toISOString()).toBe('2019-01-01T00:00:00.000Z');
    expect(parseIsoTime('2019-02')?.toISOString()).toBe('2019-02-01T00:00:00.000Z');
    expect(parseIsoTime('2019-02-28T10')?.toISOString()).toBe('2019-02-28T10:00:00.000Z');
    expect(parseIsoTime('2019-02-28T10:15+01:00')?.toISOString()).toBe('2019-02-28T09:15:00.000Z');
    expect(parseIsoTime('2019-02-28T10:15:30.1234567Z')?.toISOString()).toBe('2019-02-28T10:15:30.123Z');
    expect(parseIsoTime('2019-02-30')).toBeNull();
    expect(parseIsoTime('yesterday')).toBeNull();
  });

  it('status.isArchived matches what the end of the process archived', async () => {
    expect(await idsOf('org=nav&status.isArchived=true')).toEqual(sorted(endedMarch, endedMay));
    expect(await idsOf('org=nav&status.isArchived=false')).toEqual(sorted(open, otherParty));
    expect(endedMarch.status).toMatchObject({ isArchived: true, archived: '2019-03-15T08:00:00.000Z' });
  });

  it('confirmed=false is excludeConfirmedBy=<the org>, confirmed=true the opposite', async () => {
    expect(await idsOf('appId=nav/sample-app&process.isComplete=true&confirmed=false')).toEqual(sorted(endedMay));
    expect(await idsOf('appId=nav/sample-app&process.isComplete=true&excludeConfirmedBy=nav')).toEqual(sorted(endedMay));
    expect(await idsOf('appId=nav/sample-app&confirmed=true')).toEqual(sorted(endedMarch));
  });

  it('takes several owners in instanceOwner.partyIds; a party may name only itself', async () => {
    const both = `org=nav&instanceOwner.partyIds=${OWNER_PARTY}&instanceOwner.partyIds=${OTHER_PARTY}`;
    expect(await idsOf(both)).toEqual(sorted(open, endedMarch, endedMay, otherParty));
    expect(await idsOf(`org=nav&instanceOwner.partyIds=${OTHER_PARTY}`)).toEqual(sorted(otherParty));
    expect((await query(both, h.auth.owner)).status).toBe(403);
    expect(await idsOf(`instanceOwner.partyIds=${OWNER_PARTY}`, h.auth.owner)).toEqual(sorted(open, endedMarch, endedMay));
  });

  it('shows hard-deleted instances to their org when asked, and never to the party', async () => {
    const doomed = await createInstance(h);
    expect((await h.app.inject({ method: 'DELETE', url: `${instanceUrl(doomed)}?hard=true`, headers: h.auth.nav })).statusCode).toBe(200);
    expect(await idsOf('org=nav&status.isHardDeleted=true')).toEqual(sorted(doomed));
    expect(await idsOf('org=nav')).not.toContain(doomed.id);
    const party = await query('status.isHardDeleted=true', h.auth.owner);
    expect(party).toMatchObject({ status: 200, body: { count: 0, instances: [] } });
  });

  it('orders newest change first by default, as Altinn, and oldest first with order=asc:lastChanged', async () => {
    const newestFirst = (await query('appId=nav/sample-app&instanceOwner.partyId=' + OWNER_PARTY)).body.instances.map((i) => i.id);
    // nav confirmed the March one last.
    expect(newestFirst.slice(0, 3)).toEqual([endedMarch.id, endedMay.id, open.id]);
    expect((await query('appId=nav/sample-app&order=DESC:lastchanged&instanceOwner.partyId=' + OWNER_PARTY)).body.instances.map((i) => i.id)).toEqual(newestFirst);
    const oldestFirst = (await query('appId=nav/sample-app&order=asc:lastChanged&instanceOwner.partyId=' + OWNER_PARTY)).body.instances.map((i) => i.id);
    expect(oldestFirst).toEqual([...newestFirst].reverse());
    const bad = await query('org=nav&order=asc:created');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_ORDER');
  });

  it('pages correctly in both directions: every page continues where the last one ended, none repeats or skips', async () => {
    await registerApp(h, 'nav/paged');
    const created: Instance[] = [];
    for (let i = 0; i < 11; i++) created.push(await createInstance(h, { appId: 'nav/paged' }));
    const walk = async (order: string) => {
      const seen: string[] = [];
      let url: string | null = `${API}/instances?appId=nav/paged&size=3&order=${order}`;
      while (url) {
        const response: { statusCode: number; json: () => unknown } = await h.app.inject({ method: 'GET', url, headers: h.auth.nav });
        expect(response.statusCode).toBe(200);
        const page = response.json() as InstanceQueryResponse;
        seen.push(...page.instances.map((i) => i.id));
        url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
      }
      return seen;
    };
    const ascending = await walk('asc:lastChanged');
    const descending = await walk('desc:lastChanged');
    expect(ascending).toEqual(created.map((i) => i.id));
    expect(descending).toEqual([...ascending].reverse());

    // A token continues the walk it came from, in its order only.
    const first = (await query('appId=nav/paged&size=3&order=desc:lastChanged')).body;
    const token = new URL(first.next!).searchParams.get('continuationToken')!;
    const switched = await query(`appId=nav/paged&size=3&order=asc:lastChanged&continuationToken=${token}`);
    expect(switched.status).toBe(400);
    expect(switched.body.code).toBe('INVALID_CONTINUATION_TOKEN');

    // Descending while instances change: a changed one moves above the walk's start; the rest come once each.
    const seen: string[] = [];
    let url: string | null = `${API}/instances?appId=nav/paged&size=3`;
    let changed: Instance | undefined;
    while (url) {
      const page: InstanceQueryResponse = (await h.app.inject({ method: 'GET', url, headers: h.auth.nav })).json();
      seen.push(...page.instances.map((i) => i.id));
      if (!changed) {
        changed = created[0]!;
        await h.app.inject({ method: 'PUT', url: `${instanceUrl(changed)}/substatus`, headers: h.auth.nav, payload: { label: 'moved' } });
      }
      url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(descending.filter((id) => id !== changed!.id));
    expect((await query('appId=nav/paged&size=1')).body.instances[0]!.id).toBe(changed!.id);
  });

  it('does not let a write-only serviceowner scope query', async () => {
    const writeOnly = bearer(h.issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerWrite] }));
    const refused = await query('org=nav', writeOnly);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('MISSING_SCOPE');
    expect((await query('org=nav', h.auth.navReadOnly)).status).toBe(200);
  });
});
