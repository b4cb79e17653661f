import type { Instance, InstanceEvent } from '@forms/contracts';
import { createInstance, instanceUrl, registerApp, startStorage, viaApp, type StorageHarness, type AdapterSet } from '../support/storage-harness';

/**
 * Writes without If-Match merge: independent changes by concurrent writers all land (each retry re-reads
 * and re-applies, with jittered backoff), and a write that changes nothing writes nothing at all.
 * On both adapter sets: on MongoDB every write also takes a sequence from the shared counter.
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('concurrent writes without If-Match (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters);
    await registerApp(h);
  });
  afterAll(() => h.close());

  const get = async (instance: Instance) => (await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).json<Instance>();
  const events = async (instance: Instance, query = '') =>
    (await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events${query}`, headers: h.auth.owner })).json<{ instanceEvents: InstanceEvent[] }>().instanceEvents;
  const setValues = (instance: Instance, values: Record<string, string | null>) =>
    h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/datavalues`, headers: viaApp(h, h.auth.owner), payload: { values } });

  it('accepts 60 parallel writes of different datavalues keys, all of them', async () => {
    const instance = await createInstance(h);
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => setValues(instance, { [`key${i}`]: String(i) })));
    expect(responses.map((response) => (response.statusCode === 200 ? 200 : response.body))).toEqual(Array(60).fill(200));
    const final = await get(instance);
    expect(Object.keys(final.dataValues).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `key${i}`).sort());
    expect(final.version).toBe(instance.version + 60);
    expect(await events(instance, '?eventTypes=Saved')).toHaveLength(60);
  });

  it('changes no version, no lastChanged and writes no event for a write that changes nothing', async () => {
    const instance = await createInstance(h);
    expect((await setValues(instance, { a: '1' })).statusCode).toBe(200);
    const before = await get(instance);
    const savedBefore = (await events(instance, '?eventTypes=Saved')).length;
    const again = await setValues(instance, { a: '1', gone: null });
    expect(again.statusCode).toBe(200);
    expect(again.json<Instance>()).toEqual(before);
    expect(await get(instance)).toEqual(before);
    expect(await events(instance, '?eventTypes=Saved')).toHaveLength(savedBefore);
  });

  it('makes one confirmation of six concurrent ones: one version step, one event, lastChanged moved once', async () => {
    const instance = await createInstance(h);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => h.app.inject({ method: 'POST', url: `${instanceUrl(instance)}/complete`, headers: h.auth.nav })),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(6).fill(200));
    const final = await get(instance);
    expect(final.version).toBe(instance.version + 1);
    expect(responses.map((response) => response.json<Instance>().version)).toEqual(Array(6).fill(final.version));
    expect(new Set(responses.map((response) => response.json<Instance>().lastChanged))).toEqual(new Set([final.lastChanged]));
    expect(await events(instance, '?eventTypes=ConfirmedComplete')).toHaveLength(1);
  });
});
