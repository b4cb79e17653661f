import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Scopes } from '@forms/contracts';
import { basic, startAuth, type AuthHarness } from '../support/auth-harness';

/**
 * Two token-service instances on one MongoDB (the CongoServer stand-in, or MONGODB_URL), as two replicas behind
 * a load balancer: a client's limit holds for both together, not for each (README, "Deployment").
 */
describe('rate limits shared by two token-service instances on one store', () => {
  const instances: AuthHarness[] = [];
  beforeAll(async () => {
    const mongoUrl = process.env.TEST_MONGODB_URL;
    if (!mongoUrl) throw new Error('TEST_MONGODB_URL is not set: run the tests through jest');
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env = {
      MONGODB_URL: mongoUrl,
      MONGODB_DATABASE: `auth_limits_${randomUUID().slice(0, 8)}`,
      SIGNING_KEY_PEM: key,
      REPLICAS: '2',
      RATE_LIMIT_MAX: '4',
      RATE_LIMIT_WINDOW_SECONDS: '60',
    };
    instances.push(await startAuth({ env }), await startAuth({ env }));
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
  });

  it('answers 429 once the client has used its limit across both instances', async () => {
    const [one, two] = instances as [AuthHarness, AuthHarness];
    const client = await one.registerClient({ clientId: `shared-${randomUUID().slice(0, 8)}`, kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
    const credentials = basic(client.clientId, client.clientSecret as string);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      statuses.push((await (attempt % 2 === 0 ? one : two).token({ grant_type: 'client_credentials' }, credentials)).statusCode);
    }
    // Each instance alone would have allowed 4: 8 in all.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
