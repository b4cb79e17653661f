import { Writable } from 'node:stream';
import { Scopes } from '@forms/contracts';
import { basic, clientAssertionForm, signAssertion, startAuth, keyPairFor, type AuthHarness } from '../support/auth-harness';

describe('logging', () => {
  let h: AuthHarness;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    // Fastify reads `stream` from its logger options; pino's option type does not name it.
    const logger = { level: 'debug', stream };
    h = await startAuth({ logger });
  });
  afterAll(() => h.close());

  it('logs why a request failed, but never a secret, an assertion or a token', async () => {
    const client = await h.registerClient({ clientId: 'logged', kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
    const secret = client.clientSecret as string;
    const keyClient = await h.registerKeyClient({ clientId: 'logged-key', kind: 'system', partyId: '50001', scopes: [Scopes.instancesRead] });

    const wrongSecret = 'wrong-secret-value-123';
    await h.token({ grant_type: 'client_credentials' }, basic('logged', wrongSecret));
    await h.token({ grant_type: 'client_credentials', client_id: 'logged', client_secret: wrongSecret });
    const issued = (await h.token({ grant_type: 'client_credentials' }, basic('logged', secret))).json().access_token as string;
    const forged = await signAssertion({ ...keyClient, privateKey: keyPairFor('RS256').privateKey });
    await h.token(clientAssertionForm(forged));
    const good = await signAssertion(keyClient);
    await h.token(clientAssertionForm(good));

    const log = lines.join('\n');
    expect(log).toContain('wrong secret for client logged');
    expect(log).toContain('failed verification');
    expect(log).toContain('token issued');
    for (const sensitive of [secret, wrongSecret, issued, forged, good, forged.split('.')[2]!, good.split('.')[2]!]) {
      expect(log).not.toContain(sensitive);
    }
  });
});
