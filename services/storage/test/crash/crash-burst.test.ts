/**
 * Crash safety, for real: a storage process (a child of this test) is killed with SIGKILL in the middle of a
 * burst of instantiations, started again on the same data, and every instantiation it acknowledged must be
 * there whole: the instance, its Created event and its form. Nothing half-made may be there either.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageClient } from '@forms/client';
import { Scopes, type Instance } from '@forms/contracts';
import { freePort, TestIssuer } from '@forms/test-support';
import { SAMPLE_APP } from '../support/storage-harness';
import { StorageProcess } from '../support/storage-process';

jest.setTimeout(120_000);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(['embedded', 'mongo'] as const)('SIGKILL during a burst of instantiations (%s)', (adapters) => {
  let issuer: TestIssuer;
  let dataDir: string;
  const running: StorageProcess[] = [];

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    dataDir = mkdtempSync(join(tmpdir(), 'storage-crash-'));
  });
  afterAll(async () => {
    for (const storage of running) await storage.kill();
    await issuer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds every acknowledged instance with its Created event and its form after the restart', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}/storage/api/v1`;
    const env: Record<string, string> = {
      PORT: String(port),
      DATA_DIR: dataDir,
      JWKS_URL: issuer.jwksUrl,
      TOKEN_ISSUER: issuer.issuer,
      REAPER_INTERVAL_SECONDS: '0',
      // Blobs in DATA_DIR: one process only, which SINGLE_NODE says.
      ...(adapters === 'mongo' && { MONGODB_URL: process.env.TEST_MONGODB_URL as string, MONGODB_DATABASE: `crash_${randomUUID().slice(0, 8)}`, SINGLE_NODE: 'true' }),
    };
    const first = await StorageProcess.start(env);
    running.push(first);
    // As the app service calls storage: its own token beside the party's (storage creates instances only then).
    const appToken = issuer.appToken({ app: 'nav/sample-app' });
    const client = new StorageClient({ baseUrl, timeoutMs: 10_000, accessToken: async () => appToken });
    const nav = issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] });
    await client.registerApplication(nav, 'nav/sample-app', SAMPLE_APP);

    const acknowledged: { instance: Instance; form: string }[] = [];
    let attempted = 0;
    let killed = false;
    const worker = async (party: number) => {
      const token = issuer.userToken({ userId: 2000 + party, partyId: String(60000 + party), scopes: [Scopes.instancesRead, Scopes.instancesWrite] });
      while (!killed) {
        attempted += 1;
        const form = JSON.stringify({ applicant: { name: `person ${party}`, nonce: randomUUID() } });
        try {
          const instance = await client.createInstance(
            token,
            'nav/sample-app',
            { instanceOwner: { partyId: String(60000 + party) }, instanceGuid: randomUUID() },
            [{ dataType: 'model', contentType: 'application/json', body: form }],
          );
          acknowledged.push({ instance, form }); // an answer that arrived is an acknowledgement, killed or not
        } catch {
          // refused or cut off by the kill: not acknowledged, so it may or may not be there, but whole if it is
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, index) => worker(index));
    // Kill once the burst is well under way.
    while (acknowledged.length < 40) await new Promise((wait) => setTimeout(wait, 20));
    await first.kill();
    killed = true;
    await Promise.all(workers);
    expect(first.signalCode).toBe('SIGKILL');

    const second = await StorageProcess.start(env);
    running.push(second);
    for (const { instance, form } of acknowledged) {
      const token = issuer.userToken({ userId: 1, partyId: instance.instanceOwner.partyId, scopes: [Scopes.instancesRead] });
      const stored = (await client.getInstance(token, instance.id)).value;
      const element = stored.data.find((candidate) => candidate.dataType === 'model');
      expect(element?.contentHash).toBe(sha256(form));
      const download = await client.downloadData(token, instance.id, element?.id as string);
      let content = '';
      for await (const chunk of download.body) content += (chunk as Buffer).toString();
      expect(content).toBe(form);
      const events = await client.listEvents(token, instance.id);
      expect(events.filter((event) => event.eventType === 'Created')).toHaveLength(1);
    }
    // And nothing half-made: every stored instance, acknowledged or not, has its Created event and its form.
    let stored = 0;
    for await (const instance of client.queryAllInstances(nav, { appId: 'nav/sample-app', size: 1000 })) {
      stored += 1;
      expect(instance.data.map((element) => element.dataType)).toEqual(['model']);
      const events = await client.listEvents(nav, instance.id);
      expect(events.map((event) => event.eventType)).toContain('Created');
    }
    expect(stored).toBeGreaterThanOrEqual(acknowledged.length);
    // The kill cut requests off in flight (otherwise this test proves nothing).
    expect(attempted).toBeGreaterThan(acknowledged.length);
    await second.stop();
  });
});
