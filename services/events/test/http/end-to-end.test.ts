/**
 * From a party's click to the org's endpoint: a person completes a child-benefit application through the app
 * service, storage records the change and its audit events in one write, the events service relays storage's
 * feed and posts the signed CloudEvent to the org's subscriber; the same events are in the pull feed.
 */
import type { DataElement, Instance, ProcessState } from '@forms/contracts';
import { Scopes } from '@forms/contracts';
import { verifyEventSignature as verifySignature } from '@forms/client';
import { bearer, OWNER_PARTY } from '../../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from '../../../app/test/support/app-harness';
import { createInstance } from '../../../app/test/support/fixtures';
import { appUrl, EVENTS_API, startEvents, type EventsHarness } from '../support/events-harness';
import { eventually, Subscriber } from '../support/subscriber';

let h: AppHarness;
let events: EventsHarness;
let subscriber: Subscriber;
let partySubscriber: Subscriber;
let owner: Record<string, string>;
let nav: Record<string, string>;
let secret: string;

const formXml = (income: number) => `<?xml version="1.0" encoding="UTF-8"?>
<ChildBenefit>
  <applicant><name>Kari Nordmann</name><personNumber>01017012345</personNumber><monthlyIncome>${income}</monthlyIncome></applicant>
  <children><name>Lise</name><birthYear>${new Date().getFullYear() - 4}</birthYear></children>
</ChildBenefit>`;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  events = await startEvents({ issuer: h.storage.issuer, storageUrl: h.storageUrl, env: { METRICS_PORT: '0' } });
  subscriber = await Subscriber.start();
  partySubscriber = await Subscriber.start();
  owner = h.storage.auth.owner;
  nav = bearer(h.storage.issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));
  const created = await events.app.inject({
    method: 'POST',
    url: `${EVENTS_API}/subscriptions`,
    headers: nav,
    payload: { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), typeFilter: 'app.instance.process.completed' },
  });
  secret = created.json<{ secret: string }>().secret;
  const own = await events.app.inject({ method: 'POST', url: `${EVENTS_API}/subscriptions`, headers: owner, payload: { endPoint: partySubscriber.url } });
  expect(own.statusCode).toBe(201);
  await subscriber.waitFor((received) => received.length > 0);
  await partySubscriber.waitFor((received) => received.length > 0);
});
afterAll(async () => {
  await events?.close();
  await Promise.all([subscriber?.close(), partySubscriber?.close()]);
  await h?.close();
});

/** A person fills in the form and completes the data task; the low income ends the process there. */
async function completeApplication(): Promise<{ instance: Instance; completedAt: number }> {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  const put = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...owner, 'content-type': 'application/xml' }, payload: formXml(30_000) });
  expect(put.statusCode).toBe(200);
  const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
  expect(next.statusCode).toBe(200);
  expect(next.json<ProcessState>().ended).toBeDefined();
  return { instance, completedAt: Date.now() };
}

test('the org endpoint receives app.instance.process.completed for the completed instance, signed, within a second', async () => {
  const { instance, completedAt } = await completeApplication();
  await subscriber.waitFor((received) => received.some((r) => r.event.source.endsWith(instance.id)), 5_000);
  const arrival = subscriber.received.find((r) => r.event.source.endsWith(instance.id))!;
  expect(arrival.at - completedAt).toBeLessThan(1_000);
  expect(arrival.event).toEqual({
    specversion: '1.0',
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    type: 'app.instance.process.completed',
    source: `${appUrl('nav/child-benefit')}/instances/${instance.id}`,
    subject: `/party/${OWNER_PARTY}`,
    resource: 'urn:altinn:resource:app_nav_child-benefit',
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    sequence: expect.stringMatching(/^\d+$/),
  });
  const headers = { id: String(arrival.headers['webhook-id']), timestamp: String(arrival.headers['webhook-timestamp']), signature: String(arrival.headers['webhook-signature']) };
  expect(headers.id).toBe(arrival.event.id);
  expect(verifySignature(secret, headers, arrival.body)).toBe(true);
  expect(verifySignature(secret, { ...headers, timestamp: String(Number(headers.timestamp) - 3600) }, arrival.body)).toBe(false);
  // Only the type subscribed to.
  expect(subscriber.events.every((e) => e.type === 'app.instance.process.completed')).toBe(true);
});

test("the party's own subscription gets its instance's creation and completion, in order", async () => {
  const { instance } = await completeApplication();
  await partySubscriber.waitFor((received) => received.filter((r) => r.event.source.endsWith(instance.id)).length >= 2, 5_000);
  const mine = partySubscriber.events.filter((e) => e.source.endsWith(instance.id));
  expect(mine.map((e) => e.type)).toEqual(['app.instance.created', 'app.instance.process.completed']);
  expect(Number(mine[0]!.sequence)).toBeLessThan(Number(mine[1]!.sequence));
  expect(partySubscriber.events.every((e) => e.subject === `/party/${OWNER_PARTY}`)).toBe(true);
});

test("the pull feed: the org reads its app's events in order and follows `next`; the org's confirmation and substatus are events too", async () => {
  const { instance } = await completeApplication();
  const confirm = await h.storage.app.inject({ method: 'POST', url: `/storage/api/v1/instances/${instance.id}/complete`, headers: h.storage.auth.nav });
  expect(confirm.statusCode).toBe(200);
  const substatus = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/substatus`,
    headers: { ...h.storage.auth.nav, 'content-type': 'application/json' },
    payload: { label: 'under-review' },
  });
  expect(substatus.statusCode).toBe(200);
  const all = await eventually(async () => {
    const page = await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit?after=0&size=1000`, headers: nav });
    const list = page.json<Array<{ type: string; source: string; sequence: string }>>().filter((e) => e.source.endsWith(instance.id));
    return list.length === 4 ? list : undefined;
  });
  expect(all.map((e) => e.type)).toEqual(['app.instance.created', 'app.instance.process.completed', 'platform.instance.confirmed', 'app.instance.substatus.changed']);

  // Page by page with `next`, from the beginning: the same events, in order, each once.
  const seen: string[] = [];
  let url = `${EVENTS_API}/app/nav/child-benefit?after=0&size=2`;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await events.app.inject({ url, headers: nav });
    expect(page.statusCode).toBe(200);
    const list = page.json<Array<{ sequence: string }>>();
    if (list.length === 0) break;
    seen.push(...list.map((e) => e.sequence));
    const next = new URL(String(page.headers.next));
    expect(page.headers.link).toBe(`<${next.href}>; rel="next"`);
    url = `${next.pathname}${next.search}`;
  }
  expect(seen).toEqual([...seen].sort((a, b) => Number(a) - Number(b)));
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual(expect.arrayContaining(all.map((e) => e.sequence)));

  const completedOnly = await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit?type=app.instance.process.completed&size=1000`, headers: nav });
  expect(completedOnly.json<Array<{ type: string }>>().every((e) => e.type === 'app.instance.process.completed')).toBe(true);
});

test('the pull feed keeps others out: another org gets 403, a party sees only its own subject', async () => {
  const skd = bearer(h.storage.issuer.orgToken({ org: 'skd', scopes: [Scopes.eventsSubscribe] }));
  expect((await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit`, headers: skd })).json()).toMatchObject({ status: 403, code: 'NOT_YOUR_APP' });
  expect((await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit`, headers: h.storage.auth.otherOwner })).json()).toEqual([]);
  expect((await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit?subject=/party/${OWNER_PARTY}`, headers: h.storage.auth.otherOwner })).statusCode).toBe(403);
  const own = await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit?size=1000`, headers: owner });
  expect(own.json<unknown[]>().length).toBeGreaterThan(0);
  expect((await events.app.inject({ url: `${EVENTS_API}/app/nav/child-benefit?size=0`, headers: nav })).statusCode).toBe(400);
});

test("storage's feed is for the events service's own token only", async () => {
  for (const headers of [h.storage.auth.nav, owner, bearer(h.storage.issuer.appToken({ app: 'nav/child-benefit', scopes: [Scopes.storageEventsFeed] }))]) {
    const response = await h.storage.app.inject({ url: '/storage/api/v1/feed?after=0', headers });
    expect(response.json()).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
  }
  expect((await h.storage.app.inject({ url: '/storage/api/v1/feed?after=0' })).statusCode).toBe(401);
});

test("the relay's metrics: caught up with storage's feed a moment ago, not failing, its position past the events relayed", async () => {
  const { instance } = await completeApplication();
  await subscriber.waitFor((received) => received.some((r) => r.event.source.endsWith(instance.id)), 5_000);
  const text = await (await fetch(events.app.metricsUrl as string)).text();
  const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  const delivered = subscriber.received.find((r) => r.event.source.endsWith(instance.id))!;
  expect(sample('events_relay_position')).toBeGreaterThanOrEqual(Number(delivered.event.sequence));
  expect(sample('events_relay_failing')).toBe(0);
  expect(Date.now() / 1000 - sample('events_relay_caught_up_timestamp_seconds')).toBeLessThan(5);
  expect(sample('events_delivered_total')).toBeGreaterThanOrEqual(1);
});
