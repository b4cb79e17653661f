/**
 * Storage with METRICS_PORT set: its requests are counted under their route patterns (never an instance's id),
 * as an operator's Prometheus scrapes them.
 */
import { API, createInstance, instanceUrl, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';

let h: StorageHarness;
beforeAll(async () => {
  h = await startStorage('embedded', { METRICS_PORT: '0' });
  await registerApp(h);
});
afterAll(() => h.close());

it('counts creations, reads and refusals under their routes and statuses', async () => {
  const instance = await createInstance(h);
  expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);
  expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance) })).statusCode).toBe(401);

  const text = await (await fetch(h.app.metricsUrl as string)).text();
  const count = (labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1]);
  const read = `route="${API}/instances/:instanceOwnerPartyId/:instanceGuid"`;
  expect(count(`method="POST",route="${API}/instances",status_code="201"`)).toBe(1);
  expect(count(`method="GET",${read},status_code="200"`)).toBe(1);
  expect(count(`method="GET",${read},status_code="401"`)).toBe(1);
  expect(text).not.toContain(instance.id.split('/')[1]);
});
