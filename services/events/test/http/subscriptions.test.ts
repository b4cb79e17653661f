/** The subscription API over HTTP: Altinn's fields, who may subscribe to what, validation, SSRF refusals. */
import { Scopes } from '@forms/contracts';
import { TestIssuer } from '@forms/test-support';
import { verifyEventSignature as verifySignature } from '@forms/client';
import { bearer, startStorage, type StorageHarness } from '../../../storage/test/support/storage-harness';
import { appUrl, EVENTS_API, startEvents, type EventsHarness } from '../support/events-harness';
import { eventually, Subscriber } from '../support/subscriber';

let storage: StorageHarness;
let storageUrl: string;
let issuer: TestIssuer;
let events: EventsHarness;
let strict: EventsHarness;
let subscriber: Subscriber;
const nav = () => bearer(issuer.orgToken({ org: 'nav', scopes: [Scopes.eventsSubscribe] }));
const skd = () => bearer(issuer.orgToken({ org: 'skd', scopes: [Scopes.eventsSubscribe] }));
const party = (partyId = '50001') => bearer(issuer.userToken({ userId: 1001, partyId, scopes: [Scopes.instancesRead] }));

beforeAll(async () => {
  storage = await startStorage();
  storageUrl = `${await storage.app.listen({ host: '127.0.0.1', port: 0 })}/storage/api/v1`;
  issuer = storage.issuer;
  events = await startEvents({ issuer, storageUrl });
  strict = await startEvents({ issuer, storageUrl, env: { ALLOW_PRIVATE_ENDPOINTS: 'false' } });
  subscriber = await Subscriber.start();
});
afterAll(async () => {
  await Promise.all([events?.close(), strict?.close(), subscriber?.close()]);
  await storage?.close();
});

const subscribe = (h: EventsHarness, headers: Record<string, string>, payload: Record<string, unknown>) =>
  h.app.inject({ method: 'POST', url: `${EVENTS_API}/subscriptions`, headers, payload });

describe('an org subscribes to its own app', () => {
  let created: { id: string; secret: string; status: string };

  test('201 with the secret once and a Location; the endpoint gets a signed validation event and the subscription turns active', async () => {
    const response = await subscribe(events, nav(), { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), typeFilter: 'app.instance.process.completed' });
    expect(response.statusCode).toBe(201);
    created = response.json();
    expect(created).toMatchObject({ endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), typeFilter: 'app.instance.process.completed', status: 'awaiting validation' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(response.headers.location).toMatch(new RegExp(`/events/api/v1/subscriptions/${created.id}$`));

    await subscriber.waitFor((received) => received.some((r) => r.event.type === 'platform.events.validatesubscription'));
    const validation = subscriber.received.find((r) => r.event.type === 'platform.events.validatesubscription')!;
    const headers = { id: String(validation.headers['webhook-id']), timestamp: String(validation.headers['webhook-timestamp']), signature: String(validation.headers['webhook-signature']) };
    expect(verifySignature(created.secret, headers, validation.body)).toBe(true);
    expect(verifySignature(created.secret, headers, `${validation.body} `)).toBe(false);
    expect(validation.headers['content-type']).toBe('application/cloudevents+json');

    const active = await eventually(async () => {
      const read = await events.app.inject({ url: `${EVENTS_API}/subscriptions/${created.id}`, headers: nav() });
      return read.json<{ status: string }>().status === 'active' ? read.json() : undefined;
    });
    expect(active).not.toHaveProperty('secret');
  });

  test('listed for its org only; another org and a party do not find it; DELETE removes it', async () => {
    const list = await events.app.inject({ url: `${EVENTS_API}/subscriptions`, headers: nav() });
    expect(list.json<{ count: number; subscriptions: { id: string }[] }>().subscriptions.map((s) => s.id)).toContain(created.id);
    expect((await events.app.inject({ url: `${EVENTS_API}/subscriptions`, headers: skd() })).json()).toEqual({ count: 0, subscriptions: [] });
    expect((await events.app.inject({ url: `${EVENTS_API}/subscriptions/${created.id}`, headers: skd() })).statusCode).toBe(404);
    expect((await events.app.inject({ method: 'DELETE', url: `${EVENTS_API}/subscriptions/${created.id}`, headers: party() })).statusCode).toBe(404);
    expect((await events.app.inject({ method: 'DELETE', url: `${EVENTS_API}/subscriptions/${created.id}`, headers: nav() })).statusCode).toBe(204);
    expect((await events.app.inject({ url: `${EVENTS_API}/subscriptions/${created.id}`, headers: nav() })).statusCode).toBe(404);
  });
});

describe('who may subscribe to what', () => {
  test("another org's app, a missing scope, no sourceFilter and a URL that is no app's are refused", async () => {
    const otherOrg = await subscribe(events, skd(), { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit') });
    expect(otherOrg.statusCode).toBe(403);
    expect(otherOrg.json().code).toBe('NOT_YOUR_APP');
    const noScope = await subscribe(events, bearer(issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead] })), { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit') });
    expect(noScope.json()).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
    const appToken = await subscribe(events, bearer(issuer.appToken({ app: 'nav/other-app', scopes: [Scopes.eventsSubscribe] })), { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit') });
    expect(appToken.json()).toMatchObject({ status: 403, code: 'NOT_YOUR_APP' });
    expect((await subscribe(events, nav(), { endPoint: subscriber.url })).json()).toMatchObject({ status: 400, code: 'SOURCE_FILTER_REQUIRED' });
    for (const sourceFilter of ['https://evil.example/nav/child-benefit', `${appUrl('nav/child-benefit')}/instances/1`, 'nav/child-benefit']) {
      expect((await subscribe(events, nav(), { endPoint: subscriber.url, sourceFilter })).json()).toMatchObject({ status: 400, code: 'INVALID_SOURCE_FILTER' });
    }
    expect((await subscribe(events, {}, { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit') })).statusCode).toBe(401);
    expect((await subscribe(events, nav(), { endPoint: subscriber.url, sourceFilter: appUrl('nav/child-benefit'), extra: 1 })).statusCode).toBe(400);
  });

  test("a party subscribes to its own events (the subject is set for it) and never to another party's", async () => {
    const own = await subscribe(events, party(), { endPoint: subscriber.url });
    expect(own.statusCode).toBe(201);
    expect(own.json()).toMatchObject({ subjectFilter: '/party/50001' });
    const other = await subscribe(events, party(), { endPoint: subscriber.url, subjectFilter: '/party/50002' });
    expect(other.json()).toMatchObject({ status: 403, code: 'NOT_YOUR_SUBJECT' });
    const list = await events.app.inject({ url: `${EVENTS_API}/subscriptions`, headers: party('50002') });
    expect(list.json()).toEqual({ count: 0, subscriptions: [] });
  });
});

describe('endpoints the service will not call', () => {
  test.each([
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://10.1.2.3/hook',
    'http://192.168.0.10/hook',
    'http://172.20.0.1/hook',
    'http://[::1]:9/hook',
    'http://[fe80::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://0.0.0.0/hook',
  ])('%s is refused unless private endpoints are allowed', async (endPoint) => {
    const response = await subscribe(strict, nav(), { endPoint, sourceFilter: appUrl('nav/child-benefit') });
    expect(response.json()).toMatchObject({ status: 400, code: 'ENDPOINT_ADDRESS_REFUSED' });
  });

  test('not http(s), or with credentials: 400', async () => {
    for (const endPoint of ['ftp://example.org/x', 'file:///etc/passwd', 'https://user:pw@example.org/x', 'not a url']) {
      expect((await subscribe(strict, nav(), { endPoint, sourceFilter: appUrl('nav/child-benefit') })).json()).toMatchObject({ status: 400, code: 'INVALID_ENDPOINT' });
    }
  });

  test('a redirect is not followed: the subscription stays unvalidated and the redirect target is never called', async () => {
    const target = await Subscriber.start('/target');
    const redirecting = await Subscriber.start();
    try {
      redirecting.respond = () => 307;
      const response = await subscribe(events, nav(), { endPoint: redirecting.url, sourceFilter: appUrl('nav/child-benefit') });
      const { id } = response.json<{ id: string }>();
      await redirecting.waitFor((received) => received.length >= 2);
      const read = await events.app.inject({ url: `${EVENTS_API}/subscriptions/${id}`, headers: nav() });
      expect(read.json()).toMatchObject({ status: 'awaiting validation', delivery: { lastError: 'HTTP 307' } });
      expect(target.received).toEqual([]);
    } finally {
      await Promise.all([target.close(), redirecting.close()]);
    }
  });
});

describe('limits and documentation', () => {
  test('at most 100 subscriptions each: the 101st is 409 TOO_MANY_SUBSCRIPTIONS', async () => {
    const busy = party('50077');
    for (let i = 0; i < 100; i += 1) expect((await subscribe(events, busy, { endPoint: `${subscriber.url}/${i}` })).statusCode).toBe(201);
    expect((await subscribe(events, busy, { endPoint: subscriber.url })).json()).toMatchObject({ status: 409, code: 'TOO_MANY_SUBSCRIPTIONS' });
    expect((await events.app.inject({ url: `${EVENTS_API}/subscriptions`, headers: busy })).json()).toMatchObject({ count: 100 });
  });

  test('the OpenAPI document describes the subscription API and the pull feed', async () => {
    const document = await events.app.inject({ url: '/events/swagger/json' });
    expect(document.statusCode).toBe(200);
    const paths = Object.keys(document.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/events/api/v1/subscriptions',
        '/events/api/v1/subscriptions/{id}',
        '/events/api/v1/subscriptions/{id}/deadletters',
        '/events/api/v1/subscriptions/{id}/deadletters/replay',
        '/events/api/v1/app/{org}/{app}',
      ]),
    );
  });
});
