/** The SDK's EventsClient against a running events service: subscriptions, dead letters, following the feed. */
import { DomainError, Scopes } from '@forms/contracts';
import { EventsClient, verifyEventSignature, type PlatformEvent } from '@forms/client';
import { TestIssuer } from '@forms/test-support';
import { storedEvent } from '../contract/event-store.contract';
import { appUrl, EVENTS_API, startEvents, type EventsHarness } from '../support/events-harness';
import { Subscriber } from '../support/subscriber';

let issuer: TestIssuer;
let h: EventsHarness;
let subscriber: Subscriber;
let client: EventsClient;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  h = await startEvents({ issuer, storageUrl: 'http://127.0.0.1:9/storage/api/v1' });
  subscriber = await Subscriber.start();
  client = new EventsClient({ baseUrl: `${h.baseUrl}${EVENTS_API}`, token: () => issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }) });
});
afterAll(async () => {
  await h.close();
  await subscriber.close();
  await issuer.stop();
});

test('subscribe, read, list and delete; a receiver verifies what it gets with the secret', async () => {
  const created = await client.subscribe({ endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit') });
  expect(created.secret).toMatch(/^whsec_/);
  await subscriber.waitFor((received) => received.length > 0);
  const [validation] = subscriber.received;
  const headers = { id: String(validation!.headers['webhook-id']), timestamp: String(validation!.headers['webhook-timestamp']), signature: String(validation!.headers['webhook-signature']) };
  expect(verifyEventSignature(created.secret, headers, validation!.body)).toBe(true);
  expect(verifyEventSignature('whsec_' + Buffer.alloc(32).toString('base64'), headers, validation!.body)).toBe(false);

  expect((await client.getSubscription(created.id)).endPoint).toBe(subscriber.url);
  expect((await client.listSubscriptions()).map((s) => s.id)).toContain(created.id);
  expect(await client.deadLetters(created.id)).toEqual([]);
  await client.deleteSubscription(created.id);
  await expect(client.getSubscription(created.id)).rejects.toMatchObject({ kind: 'not_found', code: 'SUBSCRIPTION_NOT_FOUND' });
  await expect(client.subscribe({ endPoint: subscriber.url })).rejects.toBeInstanceOf(DomainError);
});

test('follow yields the feed in order, each event once, waiting for new ones, until aborted', async () => {
  await h.store.events.append([storedEvent(1), storedEvent(2, 'skd/tax-return'), storedEvent(3)], 3);
  const controller = new AbortController();
  const seen: PlatformEvent[] = [];
  const following = (async () => {
    for await (const event of client.follow('nav/child-benefit', { pollMs: 50, size: 1, signal: controller.signal })) {
      seen.push(event);
      if (seen.length === 4) controller.abort();
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await h.store.events.append([storedEvent(4), storedEvent(5)], 5);
  await following;
  expect(seen.map((e) => e.sequence)).toEqual(['1', '3', '4', '5']);
  expect((await client.feed('nav/child-benefit', { after: 3 })).map((e) => e.sequence)).toEqual(['4', '5']);
});
