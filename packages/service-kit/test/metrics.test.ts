import { Type } from '@sinclair/typebox';
import { loadConfig, ServerConfig } from '../src/config';
import { oncePerScrape } from '../src/metrics';
import { createServer, serverOptionsFrom, type TypedFastify } from '../src/server';

/**
 * Prometheus metrics on a port of their own: each request counted and timed under its route pattern and status,
 * the process's own figures beside them, nothing on the API's port, and the port closed with the service.
 */
describe('metrics on METRICS_PORT', () => {
  let app: TypedFastify;
  let api: string;

  beforeAll(async () => {
    app = createServer({ name: 'metrics-test', logger: false, metrics: { port: 0, host: '127.0.0.1' } });
    app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.post('/items', { schema: { body: Type.Object({ name: Type.String() }) } }, async () => ({ ok: true }));
    api = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  const scrape = async () => {
    const response = await fetch(app.metricsUrl as string);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const count = (text: string, labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

  it('counts and times each request under its route pattern and status, never its URL', async () => {
    const before = await scrape();
    for (const id of ['1', '2', '3']) expect((await fetch(`${api}/items/${id}`)).status).toBe(200);
    expect((await fetch(`${api}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
    expect((await fetch(`${api}/nothing-here/42`)).status).toBe(404);

    const after = await scrape();
    const grew = (labels: string) => count(after, labels) - count(before, labels);
    expect(grew('method="GET",route="/items/:id",status_code="200"')).toBe(3);
    expect(grew('method="POST",route="/items",status_code="400"')).toBe(1);
    expect(grew('method="GET",route="unmatched",status_code="404"')).toBe(1);
    expect(after).not.toMatch(/route="\/items\/1"|nothing-here/);
    expect(after).toMatch(/^http_request_duration_seconds_bucket\{le="0\.0005",method="GET",route="\/items\/:id",status_code="200"\} \d+$/m);
    // The process's own figures.
    expect(after).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(after).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('serves nothing on the API port, and only GET /metrics on its own', async () => {
    expect((await fetch(`${api}/metrics`)).status).toBe(404);
    expect(new URL(app.metricsUrl as string).port).not.toBe(new URL(api).port);
    expect((await fetch((app.metricsUrl as string).replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(app.metricsUrl as string, { method: 'POST' })).status).toBe(404);
  });

  it('closes its port with the service, and is off while METRICS_PORT is unset', async () => {
    const other = createServer({ name: 'metrics-closing', ...serverOptionsFrom({ LOG_LEVEL: 'info', IDLE_TIMEOUT_SECONDS: 90, METRICS_PORT: 0, HOST: '127.0.0.1' }, false) });
    await other.listen({ host: '127.0.0.1', port: 0 });
    const url = other.metricsUrl as string;
    expect((await fetch(url)).status).toBe(200);
    await other.close();
    await expect(fetch(url)).rejects.toThrow();

    const config = loadConfig(Type.Object({ HOST: Type.String({ default: '127.0.0.1' }), ...ServerConfig }), {});
    expect(serverOptionsFrom(config)).toEqual({ logger: { level: 'info' }, idleTimeoutMs: 90_000 });
    const off = createServer({ name: 'metrics-off', ...serverOptionsFrom(config, false) });
    let read = 0;
    await off.register(async (scoped) => scoped.addScrapedMetrics([{ kind: 'gauge', name: 'never_read', help: 'off', read: () => ++read }]));
    await off.listen({ host: '127.0.0.1', port: 0 });
    expect(read).toBe(0);
    expect(off.metricsUrl).toBeUndefined();
    await off.close();
    expect(() => loadConfig(Type.Object({ ...ServerConfig }), { METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });

  it("reads the service's own figures at each scrape, and answers with NaN for one that fails", async () => {
    let queued = 3;
    let done = 0;
    let storeUp = true;
    // prom-client writes NaN as `Nan`, which Prometheus reads as NaN (any case).
    const scraped = createServer({ name: 'metrics-scraped', logger: false, metrics: { port: 0, host: '127.0.0.1' } });
    // From inside a plugin, as the services add theirs.
    await scraped.register(async (scoped) =>
      scoped.addScrapedMetrics([
        { kind: 'gauge', name: 'test_jobs_waiting', help: 'jobs waiting', read: async () => queued },
        { kind: 'counter', name: 'test_jobs_done_total', help: 'jobs done', read: () => done },
        {
          kind: 'gauge',
          name: 'test_store_rows',
          help: 'read from a store',
          read: async () => {
            if (!storeUp) throw new Error('store down');
            return 42;
          },
        },
      ]),
    );
    await scraped.listen({ host: '127.0.0.1', port: 0 });
    try {
      const sample = (text: string, name: string) => /^(\S+) (\S+)$/m.exec(text.split('\n').filter((line) => line.startsWith(`${name} `)).join('\n'))?.[2];
      const first = await (await fetch(scraped.metricsUrl as string)).text();
      expect(first).toMatch(/^# TYPE test_jobs_done_total counter$/m);
      expect(first).toMatch(/^# TYPE test_jobs_waiting gauge$/m);
      expect([sample(first, 'test_jobs_waiting'), sample(first, 'test_jobs_done_total'), sample(first, 'test_store_rows')]).toEqual(['3', '0', '42']);

      queued = 0;
      done = 7;
      storeUp = false;
      const response = await fetch(scraped.metricsUrl as string);
      expect(response.status).toBe(200);
      const second = await response.text();
      expect([sample(second, 'test_jobs_waiting'), sample(second, 'test_jobs_done_total'), sample(second, 'test_store_rows')?.toLowerCase()]).toEqual(['0', '7', 'nan']);
      expect(second).toMatch(/^process_cpu_user_seconds_total \d/m);
    } finally {
      await scraped.close();
    }
  });

  it('lets several figures share one read of a store per scrape', async () => {
    let reads = 0;
    let rows = 10;
    const figures = oncePerScrape(async () => {
      reads += 1;
      return { rows, bytes: rows * 100 };
    });
    const scraped = createServer({ name: 'metrics-shared', logger: false, metrics: { port: 0, host: '127.0.0.1' } });
    await scraped.register(async (scoped) =>
      scoped.addScrapedMetrics([
        { kind: 'gauge', name: 'test_rows', help: 'rows', read: async () => (await figures()).rows },
        { kind: 'gauge', name: 'test_bytes', help: 'bytes', read: async () => (await figures()).bytes },
      ]),
    );
    await scraped.listen({ host: '127.0.0.1', port: 0 });
    try {
      const first = await (await fetch(scraped.metricsUrl as string)).text();
      expect(first).toMatch(/^test_rows 10$/m);
      expect(first).toMatch(/^test_bytes 1000$/m);
      expect(reads).toBe(1);
      rows = 20;
      // The next scrape reads again: a figure is never older than its scrape.
      const second = await (await fetch(scraped.metricsUrl as string)).text();
      expect(second).toMatch(/^test_bytes 2000$/m);
      expect(reads).toBe(2);
    } finally {
      await scraped.close();
    }
  });
});
