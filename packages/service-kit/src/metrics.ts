import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where Prometheus scrapes this service (`http://host:port/metrics`), once it is ready; unset when metrics are off. */
    metricsUrl?: string;
    /** Adds figures of the service's own workings, read at each scrape; does nothing while metrics are off. */
    addScrapedMetrics(metrics: readonly ScrapedMetric[]): void;
  }
}

/**
 * A figure the service reads from its own state when Prometheus scrapes (a queue's length, a loop's progress): nothing
 * is counted between scrapes, so it costs the requests nothing.
 */
export type ScrapedMetric =
  | {
      kind: 'gauge';
      name: string;
      help: string;
      /** May ask a store; if it fails, the scrape still answers, with NaN for this figure (and a warning logged). */
      read: () => number | Promise<number>;
    }
  | {
      kind: 'counter';
      name: string;
      help: string;
      /** The total since the process started (read from memory: a counter never fails). */
      read: () => number;
    };

/**
 * One read shared by the figures of one scrape: the first figure to ask reads, the others of that scrape get the same
 * answer (a promise too), and the next scrape reads again. Prometheus collects every figure in the same turn of the
 * event loop, so the answer is kept until the next turn.
 */
export function oncePerScrape<T>(read: () => T): () => T {
  let taken: { value: T } | undefined;
  return () => {
    if (taken) return taken.value;
    taken = { value: read() };
    setImmediate(() => {
      taken = undefined;
    });
    return taken.value;
  };
}

export interface MetricsOptions {
  /** The metrics listener's own port (0: any free one); never the API's, so /metrics is not public with it. */
  port: number;
  host: string;
}

/** Requests take from a fraction of a millisecond (a read) to minutes (an upload of a GiB). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/**
 * Prometheus metrics of the service on a listener of their own (METRICS_PORT): the process's (CPU, memory, event
 * loop delay, garbage collection, handles) and each request's duration by method, route pattern and status, so
 * rates, error ratios and latency quantiles per route come from one histogram. The route is the pattern
 * (`/instances/:instanceOwnerPartyId/:instanceGuid`), never the URL: ids would make a series per instance.
 * Requests no route matched count under `unmatched`.
 */
export const metrics = fp<MetricsOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate('metricsUrl', undefined as string | undefined);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    app.decorate('addScrapedMetrics', (scraped: readonly ScrapedMetric[]) => {
      for (const metric of scraped) registerScraped(registry, metric, (error) => app.log.warn({ err: error, metric: metric.name }, 'a metric could not be read'));
    });
    const durations = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'How long requests took, from their first byte to the last byte of their answer',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    // A callback hook: an async one costs a promise and a microtask on every request.
    app.addHook('onResponse', (request, reply, done) => {
      durations.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode }, reply.elapsedTime / 1000);
      done();
    });

    const server: Server = createHttpServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at GET /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics could not be collected: ${error.message}\n`),
      );
    });
    // Opens as the service gets ready (before it listens), and closes with it.
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve());
      });
      const { address, port } = server.address() as AddressInfo;
      app.metricsUrl = `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`;
      app.log.info(`metrics at ${app.metricsUrl}`);
    });
    app.addHook('onClose', async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  },
  { name: 'forms-metrics' },
);

/** Off: the decorator is there for the services to call, and registers nothing. */
export const noMetrics = fp(
  async (app: FastifyInstance) => {
    app.decorate('addScrapedMetrics', () => undefined);
  },
  { name: 'forms-metrics' },
);

function registerScraped(registry: Registry, metric: ScrapedMetric, onError: (error: unknown) => void): void {
  const { name, help } = metric;
  if (metric.kind === 'counter') {
    const read = metric.read;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
    return;
  }
  const read = metric.read;
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        this.set(await read());
      } catch (error) {
        onError(error);
        this.set(Number.NaN);
      }
    },
  });
}
