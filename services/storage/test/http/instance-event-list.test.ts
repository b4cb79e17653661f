import type { InstanceEvent } from '@forms/contracts';
import { EVENT_PAGE_SIZE } from '../../src/domain/event-pages';
import { buildEvent } from '../contract/test-data';
import { createInstance, instanceUrl, registerApp, startStorage, type AdapterSet, type StorageHarness } from '../support/storage-harness';

/**
 * An audit log grows with every write of its instance. Storage lists it a page at a time as the client reads
 * (never whole in memory), and the answer is the same one list, in order, whatever its length.
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('the events of an instance with a long audit log (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters);
    await registerApp(h);
  });
  afterAll(() => h.close());

  it('lists every event once, in order, across pages, with filters, and finds one on a late page', async () => {
    const instance = await createInstance(h);
    const start = Date.parse(instance.created);
    const count = 2 * EVENT_PAGE_SIZE + 100;
    const saved: InstanceEvent[] = [];
    // Two events share each millisecond: pages end inside ties too.
    for (let i = 0; i < count; i++) saved.push(buildEvent(instance, 'Saved', new Date(start + 1 + Math.floor(i / 2)).toISOString()));
    for (const event of saved) await h.app.storage.context.store.events.insert(event);
    const own = (await h.app.storage.context.store.events.list(instance.id, {})).filter((event) => event.eventType !== 'Saved');

    const all = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events`, headers: h.auth.owner });
    expect(all.statusCode).toBe(200);
    expect(all.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(all.headers['content-length']).toBeUndefined();
    const listed = all.json<{ instanceEvents: InstanceEvent[] }>().instanceEvents;
    const byTime = (a: InstanceEvent, b: InstanceEvent) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1);
    expect(listed).toEqual([...own, ...saved].sort(byTime));

    const filtered = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events?eventTypes=Saved`, headers: h.auth.owner });
    expect(filtered.json<{ instanceEvents: InstanceEvent[] }>().instanceEvents.map((event) => event.id)).toEqual([...saved].sort(byTime).map((event) => event.id));

    const late = saved[count - 3]!;
    const one = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events/${late.id}`, headers: h.auth.owner });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(late);

    const none = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events?eventTypes=Deleted`, headers: h.auth.owner });
    expect(none.json()).toEqual({ instanceEvents: [] });
  }, 60_000);
});
