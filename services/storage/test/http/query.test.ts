import type { Instance, InstanceQueryResponse } from '@forms/contracts';
import {
  API,
  OTHER_PARTY,
  OWNER_PARTY,
  SAMPLE_APP,
  createInstance,
  instanceUrl,
  registerApp,
  startStorage,
  viaApp,
  type StorageHarness,
} from '../support/storage-harness';

let h: StorageHarness;
beforeAll(async () => {
  h = await startStorage();
  await registerApp(h, 'nav/sample-app');
  await registerApp(h, 'nav/other-app');
  await registerApp(h, 'skd/tax-return', SAMPLE_APP);
});
afterAll(() => h.close());

const query = (params: string, headers: Record<string, string>) => h.app.inject({ method: 'GET', url: `${API}/instances?${params}`, headers });

/** Follows `next` to the end; returns every page. */
async function walk(params: string, headers: Record<string, string>, between?: () => Promise<void>): Promise<InstanceQueryResponse[]> {
  const pages: InstanceQueryResponse[] = [];
  let url: string | null = `${API}/instances?${params}`;
  while (url) {
    const response: { statusCode: number; json: () => unknown } = await h.app.inject({ method: 'GET', url, headers });
    expect(response.statusCode).toBe(200);
    const page = response.json() as InstanceQueryResponse;
    expect(page.count).toBe(page.instances.length);
    pages.push(page);
    url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
    if (between) await between();
  }
  return pages;
}

const ids = (instances: Instance[]) => instances.map((i) => i.id);
const guidOf = (instance: Instance) => instance.id.split('/')[1]!;
const inDocumentedOrder = (instances: Instance[]) =>
  [...instances].sort((a, b) => Date.parse(a.lastChanged) - Date.parse(b.lastChanged) || (guidOf(a) < guidOf(b) ? -1 : guidOf(a) > guidOf(b) ? 1 : 0));

describe('instance query', () => {
  let navSample: Instance[];
  let navOther: Instance;
  let skd: Instance;
  let otherParty: Instance;

  beforeAll(async () => {
    // Timestamps have millisecond resolution and equal ones are ordered by id: let each instance get its own
    // millisecond, since a create (with its token already verified and cached) can take less than one.
    const nextMillisecond = () => new Promise((resolve) => setTimeout(resolve, 2));
    navSample = [];
    for (let i = 0; i < 5; i++) {
      navSample.push(await createInstance(h));
      await nextMillisecond();
    }
    navOther = await createInstance(h, { appId: 'nav/other-app' });
    await nextMillisecond();
    skd = await createInstance(h, { appId: 'skd/tax-return' });
    await nextMillisecond();
    otherParty = await createInstance(h, { partyId: OTHER_PARTY, headers: h.auth.otherOwner });
  });

  it('gives an org the instances of its own apps only, ordered by lastChanged', async () => {
    const page = (await query('appId=nav/sample-app&order=asc:lastChanged', h.auth.nav)).json<InstanceQueryResponse>();
    // The documented order, (lastChanged, instance guid), computed here: instances created in the same
    // millisecond are ordered by guid, not by creation.
    expect(ids(page.instances)).toEqual(ids(inDocumentedOrder([...navSample, otherParty])));
    expect(page.next).toBeNull();
    const byOrg = (await query('org=nav', h.auth.nav)).json<InstanceQueryResponse>();
    expect(ids(byOrg.instances).sort()).toEqual(ids([...navSample, navOther, otherParty]).sort());
    expect(byOrg.instances.map((i) => i.org)).not.toContain('skd');
  });

  it("refuses an org another org's apps, and a query without app or org", async () => {
    for (const params of ['appId=skd/tax-return', 'org=skd', 'org=nav&appId=skd/tax-return']) {
      const response = await query(params, h.auth.nav);
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('FORBIDDEN');
    }
    const unscoped = await query('', h.auth.nav);
    expect(unscoped.statusCode).toBe(400);
    expect(unscoped.json().code).toBe('APP_OR_ORG_REQUIRED');
  });

  it("gives a party its own instances only, and refuses other parties' queries", async () => {
    const withoutParameters = await h.app.inject({ method: 'GET', url: `${API}/instances`, headers: h.auth.owner });
    expect(withoutParameters.json<InstanceQueryResponse>().self).toMatch(/\/storage\/api\/v1\/instances$/);
    const own = (await query('', h.auth.owner)).json<InstanceQueryResponse>();
    expect(own.instances.every((i) => i.instanceOwner.partyId === OWNER_PARTY)).toBe(true);
    expect(ids(own.instances)).toEqual(expect.arrayContaining(ids([...navSample, navOther, skd])));
    expect(ids(own.instances)).not.toContain(otherParty.id);
    const forOther = await query(`instanceOwner.partyId=${OTHER_PARTY}`, h.auth.owner);
    expect(forOther.statusCode).toBe(403);
    const byPartyForOrg = (await query(`appId=nav/sample-app&instanceOwner.partyId=${OTHER_PARTY}`, h.auth.nav)).json<InstanceQueryResponse>();
    expect(ids(byPartyForOrg.instances)).toEqual([otherParty.id]);
  });

  it('filters by process, status, time and confirmation', async () => {
    const [first, second, third, fourth] = navSample as [Instance, Instance, Instance, Instance];
    const task = { flow: 2, started: '2024-05-01T10:00:00.000Z', elementId: 'Task_2', altinnTaskType: 'confirmation' };
    const app = viaApp(h, h.auth.owner);
    await h.app.inject({ method: 'PUT', url: `${instanceUrl(first)}/process`, headers: app, payload: { started: task.started, currentTask: task } });
    await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(second)}/process`,
      headers: app,
      payload: { started: task.started, ended: '2024-05-02T10:00:00.000Z', endEvent: 'EndEvent_1' },
    });
    await h.app.inject({ method: 'DELETE', url: instanceUrl(third), headers: h.auth.owner });
    await h.app.inject({ method: 'POST', url: `${instanceUrl(second)}/complete`, headers: h.auth.nav });
    // A second finished instance that nobody has confirmed: what excludeConfirmedBy must still return.
    const unconfirmed = navSample[4]!;
    await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(unconfirmed)}/process`,
      headers: app,
      payload: { started: task.started, ended: '2024-05-02T11:00:00.000Z', endEvent: 'EndEvent_1' },
    });

    const idsOf = async (params: string) => ids((await query(`appId=nav/sample-app&order=asc:lastChanged&${params}`, h.auth.nav)).json<InstanceQueryResponse>().instances);
    expect(await idsOf('process.currentTask=Task_2')).toEqual([first.id]);
    expect(await idsOf('process.isComplete=true')).toEqual([second.id, unconfirmed.id]);
    expect((await idsOf('process.isComplete=false')).sort()).toEqual(ids([first, fourth, otherParty]).sort());
    expect(await idsOf('process.endEvent=EndEvent_1')).toEqual([second.id, unconfirmed.id]);
    expect(await idsOf('process.isComplete=true&excludeConfirmedBy=nav')).toEqual([unconfirmed.id]);
    expect(await idsOf('process.isComplete=true&excludeConfirmedBy=skd')).toEqual([second.id, unconfirmed.id]);
    expect(await idsOf('status.isSoftDeleted=true')).toEqual([third.id]);
    expect(await idsOf('')).not.toContain(third.id);

    const fourthNow = (await h.app.inject({ method: 'GET', url: instanceUrl(fourth), headers: h.auth.nav })).json<Instance>();
    const after = await idsOf(`lastChanged=gt:${encodeURIComponent(fourthNow.lastChanged)}`);
    expect(after).not.toContain(fourth.id);
    expect(after).toEqual(expect.arrayContaining([first.id, second.id]));
    const createdUpTo = await idsOf(`created=lte:${encodeURIComponent(fourthNow.created)}`);
    expect(createdUpTo).toEqual(expect.arrayContaining([first.id, second.id, fourth.id]));
    expect(createdUpTo).not.toContain(navSample[4]!.id);
    const window = await idsOf(
      `created=gte:${encodeURIComponent(first.created)}&created=lte:${encodeURIComponent(first.created)}`,
    );
    expect(window).toContain(first.id);
  });

  it('rejects unknown parameters, unknown operators, bad timestamps, bad sizes and bad tokens with 400', async () => {
    const cases: Array<[string, string]> = [
      ['appId=nav/sample-app&colour=blue', 'VALIDATION_FAILED'],
      ['appId=nav/sample-app&lastChanged=after:2024-01-01T00:00:00Z', 'UNKNOWN_OPERATOR'],
      ['appId=nav/sample-app&created=gt:last-tuesday', 'INVALID_TIMESTAMP'],
      ['appId=nav/sample-app&size=0', 'VALIDATION_FAILED'],
      ['appId=nav/sample-app&size=5000', 'VALIDATION_FAILED'],
      ['appId=nav/sample-app&continuationToken=not-a-token', 'INVALID_CONTINUATION_TOKEN'],
      [`appId=nav/sample-app&continuationToken=${Buffer.from('["x","y"]').toString('base64url')}`, 'INVALID_CONTINUATION_TOKEN'],
      ['appId=NAV', 'VALIDATION_FAILED'],
    ];
    for (const [params, code] of cases) {
      const response = await query(params, h.auth.nav);
      expect([params, response.statusCode, response.headers['content-type']]).toEqual([params, 400, 'application/problem+json; charset=utf-8']);
      expect([params, response.json().code]).toEqual([params, code]);
    }
  });
});

describe('keyset pagination', () => {
  beforeAll(async () => {
    await registerApp(h, 'nav/paged-app');
    for (let i = 0; i < 23; i++) await createInstance(h, { appId: 'nav/paged-app', partyId: i % 2 ? OWNER_PARTY : OTHER_PARTY, headers: i % 2 ? h.auth.owner : h.auth.otherOwner });
  });

  it('returns every instance exactly once across pages, with short opaque tokens', async () => {
    const pages = await walk('appId=nav/paged-app&size=5&order=asc:lastChanged', h.auth.nav);
    expect(pages.map((p) => p.count)).toEqual([5, 5, 5, 5, 3]);
    const all = pages.flatMap((p) => ids(p.instances));
    expect(new Set(all).size).toBe(23);
    const token = new URL(pages[0]!.next!).searchParams.get('continuationToken')!;
    expect(token.length).toBeLessThan(120);
    const sorted = pages.flatMap((p) => p.instances).map((i) => `${i.lastChanged}|${i.id.split('/')[1]}`);
    expect(sorted).toEqual([...sorted].sort());
  });

  it('holds every instance exactly once while new instances arrive during the walk', async () => {
    const before = pagesIds(await walk('appId=nav/paged-app&size=100', h.auth.nav));
    const added: string[] = [];
    const pages = await walk('appId=nav/paged-app&size=4&order=asc:lastChanged', h.auth.nav, async () => {
      added.push((await createInstance(h, { appId: 'nav/paged-app' })).id);
    });
    const seen = pagesIds(pages);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(before));
    // Arrivals sort after the cursor, so the walk picks them up as well rather than losing or repeating rows.
    expect(seen).toEqual(expect.arrayContaining(added.slice(0, -1)));
  });

  it('applies authorization before paging: a party sees full pages of its own instances', async () => {
    const pages = await walk('appId=nav/paged-app&size=3', h.auth.owner);
    const instances = pages.flatMap((p) => p.instances);
    expect(instances.every((i) => i.instanceOwner.partyId === OWNER_PARTY)).toBe(true);
    expect(pages.slice(0, -1).every((p) => p.count === 3)).toBe(true);
    const viaStore = await h.app.storage.context.store.instances.query({ appIds: ['nav/paged-app'], partyIds: [OWNER_PARTY], limit: 1000 });
    expect(instances.length).toBe(viaStore.filter((i) => !i.status.isSoftDeleted).length);
  });
});

const pagesIds = (pages: InstanceQueryResponse[]) => pages.flatMap((p) => ids(p.instances));
