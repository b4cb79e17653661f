import { startApp, type AppHarness } from './support/app-harness';

/**
 * The app API's contract, pinned: any change to a route, parameter or schema shows up as a change of this
 * snapshot in review (`pnpm jest services/app/test/openapi.test.ts -u` accepts an intended one). The paths are
 * Altinn 3's app API (see the README's differences from Altinn 3); nav/child-benefit stands for every app.
 */
let h: AppHarness;
beforeAll(async () => {
  h = await startApp('nav/child-benefit');
});
afterAll(() => h.close());

it('serves the OpenAPI document recorded in the snapshot', async () => {
  const response = await h.app.inject({ method: 'GET', url: `${h.base}/swagger/json` });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toMatchSnapshot();
});
