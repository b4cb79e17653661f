import type { Instance } from '@forms/contracts';
import { API, createInstance, instanceUrl, registerApp, startStorage, viaApp, type AdapterSet, type StorageHarness } from '../support/storage-harness';

interface QueryPage {
  count: number;
  next: string | null;
  instances: Instance[];
}

/**
 * A query page is bounded in bytes as well as in count: large instances (up to MAX_INSTANCE_KB each) make the page end
 * early, so a page of 1 000 never holds gigabytes, and `next` goes on where it ended, every instance met once.
 */
describe.each<AdapterSet>(['embedded', 'mongo-s3'])('query pages of large instances (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters, { QUERY_PAGE_MAX_KB: '64' });
    await registerApp(h);
  });
  afterAll(() => h.close());

  const query = async (url: string): Promise<QueryPage> => {
    const response = await h.app.inject({ method: 'GET', url, headers: h.auth.nav });
    expect(response.statusCode).toBe(200);
    return response.json<QueryPage>();
  };

  it('ends a page once it holds QUERY_PAGE_MAX_KB, and next walks on through every instance once', async () => {
    const created: Instance[] = [];
    for (let i = 0; i < 5; i++) {
      const instance = await createInstance(h);
      // About 40 kB of data values: two such instances pass 64 kB.
      const values = Object.fromEntries(Array.from({ length: 40 }, (_, key) => [`v${key}`, 'x'.repeat(1000)]));
      const written = await h.app.inject({ method: 'PUT', url: `${instanceUrl(instance)}/datavalues`, headers: viaApp(h, h.auth.owner), payload: { values } });
      expect(written.statusCode).toBe(200);
      created.push(instance);
    }
    const small = await createInstance(h);

    const seen: string[] = [];
    const counts: number[] = [];
    let url: string | null = `${API}/instances?appId=nav/sample-app&order=asc:lastChanged&size=100&lastChanged=gte:${created[0]!.created}`;
    for (let pages = 0; url && pages < 20; pages++) {
      const page: QueryPage = await query(url.replace(/^https?:\/\/[^/]+/, ''));
      counts.push(page.count);
      seen.push(...page.instances.map((instance) => instance.id));
      url = page.next;
    }
    expect(seen).toEqual([...created, small].map((instance) => instance.id));
    expect(counts.slice(0, 3)).toEqual([2, 2, 2]);

    // Small instances fill a page as before.
    expect((await query(`${API}/instances?appId=nav/sample-app&size=3`)).count).toBe(3);
  });
});
