/**
 * Two events instances on one MongoDB, both relaying the real storage's feed and delivering: instances created
 * in storage reach every subscriber once and in order, and both instances deliver.
 */
import { Scopes } from '@forms/contracts';
import { bearer, createInstance, registerApp, startStorage, type StorageHarness } from '../../../storage/test/support/storage-harness';
import { appUrl, EVENTS_API, startEvents, type EventsHarness } from '../support/events-harness';
import { eventually, Subscriber } from '../support/subscriber';

let storage: StorageHarness;
let first: Awaited<ReturnType<typeof startEvents>>;
let second: EventsHarness;
const subscribers: Subscriber[] = [];

beforeAll(async () => {
  storage = await startStorage('mongo-s3');
  const storageUrl = `${await storage.app.listen({ host: '127.0.0.1', port: 0 })}/storage/api/v1`;
  await registerApp(storage);
  const env = { DELIVERY_CONCURRENCY: '2' };
  first = await startEvents({ issuer: storage.issuer, storageUrl, adapters: 'mongo', env });
  second = await startEvents({ issuer: storage.issuer, storageUrl, adapters: 'mongo', database: first.database, env });
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close(), ...subscribers.map((s) => s.close())]);
  await storage?.close();
});

test('every created instance reaches each of six subscribers once, in commit order, and both instances deliver', async () => {
  const nav = bearer(storage.issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));
  for (let i = 0; i < 6; i += 1) {
    const subscriber = await Subscriber.start();
    subscribers.push(subscriber);
    const via = i % 2 === 0 ? first : second;
    const response = await via.app.inject({
      method: 'POST',
      url: `${EVENTS_API}/subscriptions`,
      headers: nav,
      payload: { endPoint: subscriber.url, sourceFilter: appUrl('nav/sample-app'), typeFilter: 'app.instance.created' },
    });
    expect(response.statusCode).toBe(201);
    const { id } = response.json<{ id: string }>();
    await eventually(async () => ((await first.store.subscriptions.get(id))?.validated ? true : undefined));
  }
  const created: string[] = [];
  for (let i = 0; i < 30; i += 1) created.push((await createInstance(storage)).id);

  for (const subscriber of subscribers) await subscriber.waitFor(() => subscriber.events.length >= created.length, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const subscriber of subscribers) {
    expect(subscriber.events.map((e) => e.source.split('/instances/')[1])).toEqual(created);
  }
  expect(first.app.events.figures().delivered).toBeGreaterThan(0);
  expect(second.app.events.figures().delivered).toBeGreaterThan(0);
  expect(first.app.events.figures().delivered + second.app.events.figures().delivered).toBe(6 * created.length);
});
