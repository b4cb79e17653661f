/**
 * Storage with METRICS_PORT set: its requests are counted under their route patterns (never an instance's id),
 * and its own figures (scan backlog; the embedded store's group commit and log) are read at each scrape, as an
 * operator's Prometheus scrapes them. Both adapter sets.
 */
import { API, createInstance, instanceUrl, registerApp, startStorage, type AdapterSet, type StorageHarness } from '../support/storage-harness';

describe.each<AdapterSet>(['embedded', 'mongo-s3'])('metrics of storage (%s)', (adapters) => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage(adapters, { METRICS_PORT: '0' });
    await registerApp(h);
  });
  afterAll(() => h.close());

  const scrape = async () => (await fetch(h.app.metricsUrl as string)).text();
  const sample = (text: string, name: string) => {
    const found = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    return found === undefined ? undefined : Number(found);
  };

  it('counts creations, reads and refusals under their routes and statuses', async () => {
    const instance = await createInstance(h);
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: instanceUrl(instance) })).statusCode).toBe(401);

    const text = await scrape();
    const count = (labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const read = `route="${API}/instances/:instanceOwnerPartyId/:instanceGuid"`;
    expect(count(`method="POST",route="${API}/instances",status_code="201"`)).toBe(1);
    expect(count(`method="GET",${read},status_code="200"`)).toBe(1);
    expect(count(`method="GET",${read},status_code="401"`)).toBe(1);
    expect(text).not.toContain(instance.id.split('/')[1]);
  });

  it('tells how many data elements wait for a scan verdict, and since when', async () => {
    const before = await scrape();
    expect(sample(before, 'storage_scan_jobs')).toBe(0);
    expect(sample(before, 'storage_scan_oldest_job_age_seconds')).toBe(0);

    // What the scan of an upload leaves when the scanner is down (scanning.test.ts makes them for real).
    const queue = h.app.storage.context.store.scanQueue;
    const queued = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
    await queue.put({ dataElementId: 'a1', instanceGuid: 'g1', attempts: 3, due: queued(-60), queued: queued(600) });
    await queue.put({ dataElementId: 'a2', instanceGuid: 'g2', attempts: 0, due: queued(0), queued: queued(5) });
    try {
      const after = await scrape();
      expect(sample(after, 'storage_scan_jobs')).toBe(2);
      expect(sample(after, 'storage_scan_oldest_job_age_seconds')).toBeGreaterThanOrEqual(600);
      expect(sample(after, 'storage_scan_oldest_job_age_seconds')).toBeLessThan(660);
    } finally {
      await queue.remove('a1');
      await queue.remove('a2');
    }
  });

  it(adapters === 'embedded' ? "shows the embedded store's group commit and its log" : 'has no group-commit figures: MongoDB commits on its own', async () => {
    const before = await scrape();
    await Promise.all([createInstance(h), createInstance(h), createInstance(h)]);
    const after = await scrape();
    if (adapters !== 'embedded') {
      expect(after).not.toMatch(/^storage_metadata_/m);
      return;
    }
    const grew = (name: string) => (sample(after, name) as number) - (sample(before, name) as number);
    expect(after).toMatch(/^# TYPE storage_metadata_writes_total counter$/m);
    // Each creation is one write; the three may share commits and syncs, never more of them than writes.
    expect(grew('storage_metadata_writes_total')).toBe(3);
    expect(grew('storage_metadata_commits_total')).toBeGreaterThanOrEqual(1);
    expect(grew('storage_metadata_commits_total')).toBeLessThanOrEqual(3);
    expect(grew('storage_metadata_log_syncs_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'storage_metadata_writes_waiting')).toBe(0);
    expect(sample(after, 'storage_metadata_log_bytes')).toBeGreaterThan(0);
    expect(sample(after, 'storage_metadata_checkpoints_total')).toBeGreaterThanOrEqual(0);
  });
});
