/**
 * The token endpoint when its client store is really unavailable: the service keeps clients in MongoDB (the
 * CongoServer stand-in, or MONGODB_URL) and reaches it through a TCP proxy that the test takes down. Tokens are
 * then refused with 503 temporarily_unavailable in OAuth terms, and issued again once the database is back.
 */
import { randomUUID } from 'node:crypto';
import { Scopes } from '@forms/contracts';
import { FaultProxy } from '@forms/test-support';
import { basic, startAuth, type AuthHarness } from '../support/auth-harness';

let proxy: FaultProxy;
let h: AuthHarness;
let secret: string;

beforeAll(async () => {
  const mongoUrl = process.env.TEST_MONGODB_URL;
  if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set: run the tests through jest');
  proxy = await FaultProxy.start(mongoUrl.replace(/^mongodb:/, 'http:'));
  const proxied = proxy.urlFor(mongoUrl.replace(/^mongodb:/, 'http:')).replace(/^http:/, 'mongodb:');
  h = await startAuth({ env: { MONGODB_URL: proxied, MONGODB_DATABASE: `auth_${randomUUID().slice(0, 8)}`, SINGLE_NODE: 'true' } });
  const client = await h.registerClient({ clientId: 'nav-archive', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
  secret = client.clientSecret as string;
});
afterAll(async () => {
  await proxy.up();
  await h.close();
  await proxy.stop();
});

const grant = { grant_type: 'client_credentials' };

test('store down: 503 temporarily_unavailable, without cache; store back: tokens again', async () => {
  expect((await h.token(grant, basic('nav-archive', secret))).statusCode).toBe(200);

  await proxy.down();
  const refused = await h.token(grant, basic('nav-archive', secret));
  expect(refused.statusCode).toBe(503);
  expect(refused.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(refused.headers['cache-control']).toBe('no-store');
  // Not mistaken for a bad client: the secret is fine, the store is not.
  expect(refused.headers['www-authenticate']).toBeUndefined();

  await proxy.up();
  expect((await h.token(grant, basic('nav-archive', secret))).statusCode).toBe(200);
}, 30_000);
