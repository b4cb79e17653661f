/**
 * One request, one id in every log: the app sends its request's id with each of its calls to storage, and storage
 * takes a well-formed one as the id of its own part (services/storage/test/http/protocol.test.ts), so its log lines
 * carry it. Real storage over HTTP behind the app.
 */
import type { IncomingMessage } from 'node:http';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';

let h: AppHarness;
/** What storage received, as its HTTP server saw it. */
const seen: { method: string; url: string; sent: string | undefined }[] = [];
const watch = (request: IncomingMessage) => seen.push({ method: request.method ?? '', url: request.url ?? '', sent: request.headers['x-request-id'] as string | undefined });

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  h.storage.app.server.on('request', watch);
});
afterAll(async () => {
  h.storage.app.server.off('request', watch);
  await h.close();
});

test("storage's part of an app request runs under the app request's id, given or made", async () => {
  const owner = h.storage.auth.owner;
  seen.length = 0;
  const given = await h.app.inject({ method: 'POST', url: `${h.base}/instances?instanceOwnerPartyId=${OWNER_PARTY}`, headers: { ...owner, 'x-request-id': 'portal-7f3a.42' }, payload: {} });
  expect(given.statusCode).toBe(201);
  expect(given.headers['x-request-id']).toBe('portal-7f3a.42');
  const creation = seen.filter((call) => call.method === 'POST');
  expect(creation).toHaveLength(1);
  expect(creation[0]?.sent).toBe('portal-7f3a.42');

  // Without one, the app makes its own, and every storage call of the request carries that one.
  seen.length = 0;
  const instanceId = given.json<{ id: string }>().id;
  const read = await h.app.inject({ method: 'GET', url: `${h.base}/instances/${instanceId}`, headers: owner });
  expect(read.statusCode).toBe(200);
  const made = read.headers['x-request-id'] as string;
  expect(made).toMatch(/^[0-9a-f-]{36}$/);
  expect(seen.length).toBeGreaterThanOrEqual(1);
  for (const call of seen) expect(call.sent).toBe(made);
});
