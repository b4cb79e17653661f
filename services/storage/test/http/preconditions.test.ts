import type { LightMyRequestResponse } from 'fastify';
import type { Application, DataElement, Instance } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, viaApp, type StorageHarness } from '../support/storage-harness';

/**
 * If-Match on every write route that takes it, as the README promises: a stale tag is 412 and changes
 * nothing; `*` means "whatever version is current"; a weak tag never matches (If-Match compares strongly,
 * RFC 9110 §13.1.1); a malformed header is 400 INVALID_IF_MATCH and changes nothing.
 */
interface WriteRoute {
  name: string;
  /** Sends the write with the given If-Match header (none when undefined). */
  send(h: StorageHarness, target: Target, ifMatch?: string): Promise<LightMyRequestResponse>;
  /** The version the If-Match of this route is compared with. */
  versionOf(target: Target): number;
  succeeds: number;
}

interface Target {
  instance: Instance;
  element: DataElement;
}

const PDF = Buffer.from('%PDF-1.7\nprecondition test\n%%EOF\n');
const REPLACED_PDF = Buffer.from('%PDF-1.7\nreplaced\n%%EOF\n');
const withIfMatch = (headers: Record<string, string>, ifMatch?: string) => (ifMatch === undefined ? headers : { ...headers, 'if-match': ifMatch });
const instanceVersion = (t: Target) => t.instance.version;
const elementVersion = (t: Target) => t.element.version;

const routes: WriteRoute[] = [
  {
    name: 'PUT …/process',
    send: (h, t, m) =>
      h.app.inject({
        method: 'PUT',
        url: `${instanceUrl(t.instance)}/process`,
        // Only the app moves the process (the party's token with the app's own beside it).
        headers: withIfMatch(viaApp(h, h.auth.owner), m),
        payload: {
          started: '2024-05-01T10:00:00.000Z',
          startEvent: 'StartEvent_1',
          currentTask: { flow: 2, started: '2024-05-01T10:00:00.000Z', elementId: 'Task_1', altinnTaskType: 'data' },
        },
      }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'PUT …/substatus',
    send: (h, t, m) =>
      h.app.inject({ method: 'PUT', url: `${instanceUrl(t.instance)}/substatus`, headers: withIfMatch(h.auth.nav, m), payload: { label: 'Received' } }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'PUT …/readstatus',
    send: (h, t, m) => h.app.inject({ method: 'PUT', url: `${instanceUrl(t.instance)}/readstatus?status=Read`, headers: withIfMatch(h.auth.owner, m) }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'PUT …/datavalues',
    send: (h, t, m) =>
      h.app.inject({ method: 'PUT', url: `${instanceUrl(t.instance)}/datavalues`, headers: withIfMatch(viaApp(h, h.auth.owner), m), payload: { values: { ref: 'A-1' } } }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'POST …/complete',
    send: (h, t, m) => h.app.inject({ method: 'POST', url: `${instanceUrl(t.instance)}/complete`, headers: withIfMatch(h.auth.nav, m) }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'DELETE instance (soft)',
    send: (h, t, m) => h.app.inject({ method: 'DELETE', url: instanceUrl(t.instance), headers: withIfMatch(h.auth.owner, m) }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'DELETE instance (hard)',
    send: (h, t, m) => h.app.inject({ method: 'DELETE', url: `${instanceUrl(t.instance)}?hard=true`, headers: withIfMatch(h.auth.nav, m) }),
    versionOf: instanceVersion,
    succeeds: 200,
  },
  {
    name: 'PUT …/data/{id}',
    send: (h, t, m) =>
      h.app.inject({
        method: 'PUT',
        url: `${instanceUrl(t.instance)}/data/${t.element.id}`,
        headers: withIfMatch({ ...h.auth.owner, 'content-type': 'application/pdf' }, m),
        payload: REPLACED_PDF,
      }),
    versionOf: elementVersion,
    succeeds: 200,
  },
  {
    name: 'DELETE …/data/{id}',
    send: (h, t, m) => h.app.inject({ method: 'DELETE', url: `${instanceUrl(t.instance)}/data/${t.element.id}`, headers: withIfMatch(h.auth.owner, m) }),
    versionOf: elementVersion,
    succeeds: 200,
  },
];

describe('If-Match on the storage write routes', () => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage();
    await registerApp(h);
  });
  afterAll(() => h.close());

  /** A fresh instance with one attachment, both past version 1, so "1" is a real but stale version. */
  async function freshTarget(): Promise<Target> {
    const created = await createInstance(h);
    const element = (
      await h.app.inject({
        method: 'POST',
        url: `${instanceUrl(created)}/data?dataType=attachment`,
        headers: { ...h.auth.owner, 'content-type': 'application/pdf' },
        payload: PDF,
      })
    ).json<DataElement>();
    const replaced = await h.app.inject({
      method: 'PUT',
      url: `${instanceUrl(created)}/data/${element.id}`,
      headers: { ...h.auth.owner, 'content-type': 'application/pdf' },
      payload: PDF,
    });
    expect(replaced.statusCode).toBe(200);
    return stored(created, element.id);
  }

  async function stored(instance: Pick<Instance, 'id'>, elementId: string): Promise<Target> {
    const read = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
    const current = read.json<Instance>();
    const element = current.data.find((d) => d.id === elementId)!;
    expect(current.version).toBeGreaterThan(1);
    expect(element.version).toBe(2);
    return { instance: current, element };
  }

  /** The stored state, minus nothing: a refused write must leave it exactly as it was. */
  const snapshot = async (t: Target) => (await h.app.inject({ method: 'GET', url: instanceUrl(t.instance), headers: h.auth.owner })).json<Instance>();

  describe.each(routes)('$name', (route) => {
    it('refuses a stale version with 412 VERSION_MISMATCH and changes nothing', async () => {
      const target = await freshTarget();
      const before = await snapshot(target);
      const response = await route.send(h, target, `"${route.versionOf(target) - 1}"`);
      expect(response.statusCode).toBe(412);
      expect(response.json()).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: route.versionOf(target) });
      expect(await snapshot(target)).toEqual(before);
    });

    it('refuses a weak tag of the current version with 412: If-Match compares strongly', async () => {
      const target = await freshTarget();
      const before = await snapshot(target);
      const response = await route.send(h, target, `W/"${route.versionOf(target)}"`);
      expect(response.statusCode).toBe(412);
      expect(response.json().code).toBe('VERSION_MISMATCH');
      expect(await snapshot(target)).toEqual(before);
    });

    it.each(['3', '"3', 'W/3', '"1", "2"', 'etag'])('refuses the malformed If-Match %s with 400 INVALID_IF_MATCH', async (malformed) => {
      const target = await freshTarget();
      const before = await snapshot(target);
      const response = await route.send(h, target, malformed);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('INVALID_IF_MATCH');
      expect(await snapshot(target)).toEqual(before);
    });

    it('applies the write with If-Match: * and with the current strong tag', async () => {
      const star = await route.send(h, await freshTarget(), '*');
      expect(star.statusCode).toBe(route.succeeds);
      const target = await freshTarget();
      const current = await route.send(h, target, `"${route.versionOf(target)}"`);
      expect(current.statusCode).toBe(route.succeeds);
    });
  });

  it('a confirmation already made stays idempotent, but a stale If-Match on it is still refused', async () => {
    const target = await freshTarget();
    const first = await h.app.inject({ method: 'POST', url: `${instanceUrl(target.instance)}/complete`, headers: h.auth.nav });
    const confirmed = first.json<Instance>();
    expect(confirmed.version).toBe(target.instance.version + 1);
    const again = await h.app.inject({ method: 'POST', url: `${instanceUrl(target.instance)}/complete`, headers: { ...h.auth.nav, 'if-match': `"${confirmed.version}"` } });
    expect(again.statusCode).toBe(200);
    expect(again.json<Instance>()).toEqual(confirmed);
    const stale = await h.app.inject({ method: 'POST', url: `${instanceUrl(target.instance)}/complete`, headers: { ...h.auth.nav, 'if-match': `"${target.instance.version}"` } });
    expect(stale.statusCode).toBe(412);
  });

  it('PUT /applications honours the same rules', async () => {
    const url = `${API}/applications/nav/sample-app`;
    const { version, dataTypes, partyTypesAllowed } = (await h.app.inject({ method: 'GET', url, headers: h.auth.nav })).json<Application>();
    const payload = { title: { en: 'Changed' }, dataTypes, partyTypesAllowed };
    const weak = await h.app.inject({ method: 'PUT', url, headers: { ...h.auth.nav, 'if-match': `W/"${version}"` }, payload });
    expect(weak.statusCode).toBe(412);
    const malformed = await h.app.inject({ method: 'PUT', url, headers: { ...h.auth.nav, 'if-match': String(version) }, payload });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('INVALID_IF_MATCH');
    const star = await h.app.inject({ method: 'PUT', url, headers: { ...h.auth.nav, 'if-match': '*' }, payload });
    expect(star.statusCode).toBe(200);
    expect(star.json().version).toBe(version + 1);
  });
});
