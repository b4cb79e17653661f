import { startStorage, type StorageHarness } from '../support/storage-harness';

/**
 * The storage API's contract, pinned: any change to a route, parameter or schema shows up as a change of this
 * snapshot in review (`pnpm jest services/storage/test/http/openapi.test.ts -u` accepts an intended one).
 */
let h: StorageHarness;
beforeAll(async () => {
  h = await startStorage();
});
afterAll(() => h.close());

it('serves the OpenAPI document recorded in the snapshot', async () => {
  const response = await h.app.inject({ method: 'GET', url: '/storage/swagger/json' });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toMatchSnapshot();
});
