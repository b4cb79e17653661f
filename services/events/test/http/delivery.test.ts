/**
 * Delivery from the event store to subscriber endpoints over real HTTP: order, retries with backoff, the
 * dead-letter list and its replay, and two instances sharing one store. The events are put in the store as the
 * relay puts them (storage's own feed is exercised end to end in end-to-end.test.ts).
 */
import { Scopes } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import type { EventStore } from '../../src/domain/ports/event-store';
import { bearer } from '../../../storage/test/support/storage-harness';
import { storedEvent } from '../contract/event-store.contract';
import { appUrl, EVENTS_API, startEvents, type EventsHarness } from '../support/events-harness';
import { eventually, Subscriber } from '../support/subscriber';

let issuer: TestIssuer;
// No storage behind these instances: the relay only reports that it cannot read the feed.
const storageUrl = 'http://127.0.0.1:9/storage/api/v1';
const nav = () => bearer(issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(() => issuer.stop());

async function subscribeActive(h: EventsHarness, subscriber: Subscriber, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const response = await h.app.inject({
    method: 'POST',
    url: `${EVENTS_API}/subscriptions`,
    headers: nav(),
    payload: { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), ...extra },
  });
  expect(response.statusCode).toBe(201);
  const created = response.json<{ id: string; secret: string }>();
  await eventually(async () => ((await h.store.subscriptions.get(created.id))?.validated ? true : undefined));
  return created;
}

const append = async (store: EventStore, from: number, to: number, appId = 'nav/child-benefit') => {
  const events = Array.from({ length: to - from + 1 }, (_, i) => storedEvent(from + i, appId));
  await store.events.append(events, to);
};

describe.each(['embedded', 'mongo'] as const)('delivery on the %s store', (adapters) => {
  let h: EventsHarness;
  let subscriber: Subscriber;
  beforeEach(async () => {
    h = await startEvents({ issuer, storageUrl, adapters });
    subscriber = await Subscriber.start();
  });
  afterEach(async () => {
    await h.close();
    await subscriber.close();
  });

  test("every matching event arrives once, in sequence order; other apps' events and earlier ones do not", async () => {
    await append(h.store, 1, 2);
    await subscribeActive(h, subscriber);
    await append(h.store, 3, 10);
    await append(h.store, 11, 12, 'nav/other-app');
    await append(h.store, 13, 20);
    await subscriber.waitFor(() => subscriber.events.length >= 16);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subscriber.events.map((e) => Number(e.sequence))).toEqual([...range(3, 10), ...range(13, 20)]);
  });

  test('a failing endpoint is retried with growing waits, then the event goes to the dead-letter list and the next ones flow; a replay delivers it', async () => {
    const { id } = await subscribeActive(h, subscriber);
    subscriber.respond = (event) => (event.sequence === '2' ? 503 : 200);
    await append(h.store, 1, 3);
    await subscriber.waitFor(() => subscriber.events.some((e) => e.sequence === '3'));
    const attempts = subscriber.received.filter((r) => r.event.sequence === '2');
    // DELIVERY_MAX_ATTEMPTS 3, backoff from 100 ms: three tries, the waits growing.
    expect(attempts).toHaveLength(3);
    const waits = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[1]).toBeGreaterThanOrEqual(100);
    expect(subscriber.events.map((e) => e.sequence)).toEqual(['1', '2', '2', '2', '3']);

    const letters = await h.app.inject({ url: `${EVENTS_API}/subscriptions/${id}/deadletters`, headers: nav() });
    expect(letters.json()).toEqual({
      deadLetters: [expect.objectContaining({ sequence: 2, attempts: 3, lastError: 'HTTP 503', replayRequested: false, event: expect.objectContaining({ sequence: '2' }) })],
    });
    const otherOrg = await h.app.inject({ url: `${EVENTS_API}/subscriptions/${id}/deadletters`, headers: bearer(issuer.orgToken({ org: 'skd', scopes: [Scopes.eventsSubscribe] })) });
    expect(otherOrg.statusCode).toBe(404);

    subscriber.respond = () => 200;
    const replay = await h.app.inject({ method: 'POST', url: `${EVENTS_API}/subscriptions/${id}/deadletters/replay`, headers: nav() });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual({ replaying: 1 });
    await subscriber.waitFor(() => subscriber.events.filter((e) => e.sequence === '2').length === 4);
    await eventually(async () => ((await h.store.deadLetters.list(id, 10)).length === 0 ? true : undefined));
    expect((await h.app.inject({ method: 'POST', url: `${EVENTS_API}/subscriptions/${id}/deadletters/replay?sequence=2`, headers: nav() })).statusCode).toBe(404);
  });

  test('an endpoint that does not answer times out and is retried', async () => {
    await subscribeActive(h, subscriber);
    subscriber.respond = (_event, attempt) => (attempt === 1 ? 'hang' : 200);
    await append(h.store, 1, 1);
    await subscriber.waitFor(() => subscriber.events.length === 2, 15_000);
    expect(subscriber.events.map((e) => e.sequence)).toEqual(['1', '1']);
  });
});

describe('two instances on one store', () => {
  test('share the subscriptions: every event arrives, in order, none twice', async () => {
    // Each serves two subscriptions at a time: six need both.
    const env = { DELIVERY_CONCURRENCY: '2' };
    const first = await startEvents({ issuer, storageUrl, adapters: 'mongo', env });
    const second = await startEvents({ issuer, storageUrl, adapters: 'mongo', database: first.database, env });
    const subscribers = await Promise.all(Array.from({ length: 6 }, () => Subscriber.start()));
    try {
      for (const [index, subscriber] of subscribers.entries()) await subscribeActive(index % 2 === 0 ? first : second, subscriber);
      await append(first.store, 1, 40);
      for (const subscriber of subscribers) await subscriber.waitFor(() => subscriber.events.length >= 40, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const subscriber of subscribers) expect(subscriber.events.map((e) => Number(e.sequence))).toEqual(range(1, 40));
      // Both took part.
      expect(first.app.events.figures().delivered).toBeGreaterThan(0);
      expect(second.app.events.figures().delivered).toBeGreaterThan(0);
      expect(first.app.events.figures().delivered + second.app.events.figures().delivered).toBe(6 * 40);
    } finally {
      await Promise.all([first.close(), second.close(), ...subscribers.map((s) => s.close())]);
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('readiness', () => {
  test("storage's feed out of reach is reported on /ready, which stays 200: the API and deliveries go on", async () => {
    const h = await startEvents({ issuer, storageUrl });
    try {
      const ready = await eventually(async () => {
        const response = await h.app.inject({ url: '/ready' });
        const body = response.json<{ checks?: Record<string, string> }>();
        return body.checks?.['storage-feed'] && body.checks['storage-feed'] !== 'ok' ? response : undefined;
      });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ok', checks: { store: 'ok' } });
    } finally {
      await h.close();
    }
  });
});

describe('metrics', () => {
  test("count what delivery did, and show the relay's position and that it cannot reach storage", async () => {
    const h = await startEvents({ issuer, storageUrl, env: { METRICS_PORT: '0' } });
    const subscriber = await Subscriber.start();
    try {
      const sample = async (name: string) => {
        const text = await (await fetch(h.app.metricsUrl as string)).text();
        return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      };
      await subscribeActive(h, subscriber);
      subscriber.respond = (event) => (event.sequence === '2' ? 503 : 200);
      await append(h.store, 1, 3);
      await subscriber.waitFor(() => subscriber.events.some((e) => e.sequence === '3'));
      await eventually(async () => ((await sample('events_dead_lettered_total')) === 1 ? true : undefined));
      // Events 1 and 3 accepted; 2 refused three times (DELIVERY_MAX_ATTEMPTS), then given up on.
      expect(await sample('events_delivered_total')).toBe(2);
      expect(await sample('events_delivery_failures_total')).toBe(3);
      expect(await sample('events_relay_position')).toBe(3);
      // No storage behind this instance: its relay has never caught up.
      expect(await eventually(async () => ((await sample('events_relay_failing')) === 1 ? 1 : undefined))).toBe(1);
      expect(await sample('events_relay_caught_up_timestamp_seconds')).toBe(0);
    } finally {
      await h.close();
      await subscriber.close();
    }
  });
});
