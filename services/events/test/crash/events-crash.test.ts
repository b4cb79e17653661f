/**
 * SIGKILL of the events service while an endpoint holds a delivery, with instances created before, during and
 * after the outage; restarted on the same data folder it goes on: every event arrives, in order, and only the
 * event that was in flight arrives twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scopes } from '@forms/contracts';
import { bearer, OWNER_PARTY } from '../../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from '../../../app/test/support/app-harness';
import { createInstance } from '../../../app/test/support/fixtures';
import { appUrl, EVENTS_API, feedToken } from '../support/events-harness';
import { EventsProcess } from '../support/events-process';
import { eventually, Subscriber } from '../support/subscriber';

let h: AppHarness;
let subscriber: Subscriber;
let dataDir: string;
let events: EventsProcess | undefined;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  subscriber = await Subscriber.start();
  dataDir = mkdtempSync(join(tmpdir(), 'events-crash-'));
});
afterAll(async () => {
  await events?.kill();
  await subscriber?.close();
  await h?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const env = () => ({
  DATA_DIR: dataDir,
  JWKS_URL: h.storage.issuer.jwksUrl,
  TOKEN_ISSUER: h.storage.issuer.issuer,
  STORAGE_URL: h.storageUrl,
  FEED_TOKEN: feedToken(h.storage.issuer),
  APP_BASE_URL_TEMPLATE: 'https://{org}.apps.test',
  ALLOW_PRIVATE_ENDPOINTS: 'true',
  RELAY_INTERVAL_MS: '50',
  DELIVERY_INTERVAL_MS: '50',
  DELIVERY_LEASE_MS: '1500',
  DELIVERY_RETRY_INITIAL_MS: '100',
  DELIVERY_TIMEOUT_MS: '60000',
});

const createSome = async (count: number) => {
  const created: string[] = [];
  for (let i = 0; i < count; i += 1) created.push((await createInstance(h, h.storage.auth.owner, OWNER_PARTY)).id);
  return created;
};

test('kill -9 mid-delivery and restart: nothing lost, order kept, only the event in flight twice', async () => {
  events = await EventsProcess.start(env());
  const nav = bearer(h.storage.issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));
  const response = await fetch(`${events.baseUrl}${EVENTS_API}/subscriptions`, {
    method: 'POST',
    headers: { ...nav, 'content-type': 'application/json' },
    body: JSON.stringify({ endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), typeFilter: 'app.instance.created' }),
  });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  await subscriber.waitFor((received) => received.length > 0);

  // The fourth event is held by the endpoint (no answer) until the service is gone.
  let heldId: string | undefined;
  subscriber.respond = (event, attempt) => {
    if (heldId === undefined && subscriber.events.length === 4) heldId = event.id;
    return event.id === heldId && attempt === 1 ? 'hang' : 200;
  };
  const before = await createSome(8);
  await subscriber.waitFor(() => heldId !== undefined);
  await events.kill();

  const during = await createSome(4);
  events = await EventsProcess.start(env());
  const after = await createSome(4);
  const all = [...before, ...during, ...after];

  await subscriber.waitFor(() => new Set(subscriber.events.map((e) => e.source)).size >= all.length, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const delivered = subscriber.events;
  // Nothing lost, in storage's order.
  expect(delivered.map((e) => e.source.split('/instances/')[1])).toEqual(expect.arrayContaining(all));
  const sequences = delivered.map((e) => Number(e.sequence));
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  // The one in flight arrived twice, nothing else did.
  const counts = new Map<string, number>();
  for (const event of delivered) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
  expect([...counts].filter(([, count]) => count > 1)).toEqual([[heldId, 2]]);
  expect(delivered).toHaveLength(all.length + 1);

  const state = await eventually(async () => {
    const read = await fetch(`${events!.baseUrl}${EVENTS_API}/subscriptions/${id}`, { headers: nav });
    const body = (await read.json()) as { delivery: { position: number; attempts: number } };
    return body.delivery.position === Math.max(...sequences) ? body : undefined;
  });
  expect(state.delivery.attempts).toBe(0);
});

test('SIGTERM while an endpoint holds a delivery: the service stops at once, and the event is sent again after the restart', async () => {
  const held = await Subscriber.start();
  try {
    const nav = bearer(h.storage.issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));
    await fetch(`${events!.baseUrl}${EVENTS_API}/subscriptions`, {
      method: 'POST',
      headers: { ...nav, 'content-type': 'application/json' },
      body: JSON.stringify({ endPoint: held.url, sourceFilter: appUrl('nav/child-benefit'), typeFilter: 'app.instance.created' }),
    });
    await held.waitFor((received) => received.length > 0);
    held.respond = (_event, attempt) => (attempt === 1 ? 'hang' : 200);
    const [id] = await createSome(1);
    await held.waitFor(() => held.events.length === 1);
    const stopping = Date.now();
    await events!.stop();
    // Not the 60 s DELIVERY_TIMEOUT_MS of the request in flight.
    expect(Date.now() - stopping).toBeLessThan(5_000);
    events = await EventsProcess.start(env());
    await held.waitFor(() => held.events.length === 2, 15_000);
    expect(held.events.map((e) => e.source.split('/instances/')[1])).toEqual([id, id]);
  } finally {
    await held.close();
  }
});
