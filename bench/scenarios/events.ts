/**
 * Bench scenario: event delivery. The events service runs in its own process next to the platform's (embedded
 * default), relaying storage's feed; a subscriber endpoint on 127.0.0.1 in the bench process records arrivals.
 *
 * - Latency: a person completes a child-benefit application through the app (create, form data, process/next),
 *   one at a time; the time from the 2xx of process/next to the arrival of its app.instance.process.completed at
 *   the endpoint, p50 and p99 (BENCH_EVENTS_LATENCY_SAMPLES, default 200).
 * - Throughput: a backlog of app.instance.created events (BENCH_EVENTS_BACKLOG instances, default 2000, created
 *   while the endpoints answer 503) is delivered once they answer 200, to one subscription and to four at once:
 *   events delivered per second (each subscription strictly in order, one event at a time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, json, type Platform } from '../lib/platform';
import { serviceBundles } from '../lib/bundles';
import { log, startProcess, type ServiceProcess } from '../lib/processes';
import type { Scenario, Section } from './scenario';

const EVENTS_PORT = 5293;
const SAMPLES = Number(process.env.BENCH_EVENTS_LATENCY_SAMPLES ?? 200);
const BACKLOG = Number(process.env.BENCH_EVENTS_BACKLOG ?? 2000);
const APP_URL = 'https://nav.apps.forms.example/nav/child-benefit';

interface Endpoint {
  url: string;
  /** Arrival time (ms, performance.now) by event source, first arrival only. */
  arrivals: Map<string, number>;
  count: number;
  status: number;
  server: Server;
}

async function endpoint(): Promise<Endpoint> {
  const state = { arrivals: new Map<string, number>(), count: 0, status: 200 } as Endpoint;
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; source: string };
      if (state.status === 200 && event.type !== 'platform.events.validatesubscription') {
        state.count += 1;
        if (!state.arrivals.has(event.source)) state.arrivals.set(event.source, performance.now());
      }
      response.writeHead(event.type === 'platform.events.validatesubscription' ? 200 : state.status).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hook`;
  return state;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`events bench: ${what} not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const events: Scenario = {
  id: 'events',
  async run(platform: Platform): Promise<Section> {
    const { urls } = platform;
    const testToken = async (body: Record<string, unknown>) =>
      (
        await json<{ access_token: string }>(`${urls.auth}/authentication/api/v1/testtoken`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...body, expiresInSeconds: 3600 }),
        })
      ).access_token;
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-events-'));
    const eventsUrl = `http://127.0.0.1:${EVENTS_PORT}/events/api/v1`;
    let service: ServiceProcess | undefined;
    const endpoints: Endpoint[] = [];
    try {
      service = await startProcess(
        'events',
        serviceBundles().server('events'),
        {
          NODE_PATH: serviceBundles().nodePath('events'),
          HOST: '127.0.0.1',
          PORT: String(EVENTS_PORT),
          LOG_LEVEL: 'warn',
          DATA_DIR: dataDir,
          JWKS_URL: `${urls.auth}/.well-known/jwks.json`,
          TOKEN_ISSUER: urls.auth,
          STORAGE_URL: urls.storage,
          FEED_TOKEN: await testToken({ org: 'platform', scopes: ['altinn:storage/events.feed'] }),
          ALLOW_PRIVATE_ENDPOINTS: 'true',
          DELIVERY_RETRY_INITIAL_MS: '100',
          DELIVERY_RETRY_MAX_MS: '200',
          DELIVERY_MAX_ATTEMPTS: '100000',
        },
        `http://127.0.0.1:${EVENTS_PORT}/ready`,
      );
      const nav = bearer(await testToken({ org: 'nav', scopes: ['altinn:events.subscribe'] }));
      const subscribe = async (target: Endpoint, typeFilter: string) => {
        const created = await json<{ id: string }>(`${eventsUrl}/subscriptions`, {
          method: 'POST',
          headers: { ...nav, 'content-type': 'application/json' },
          body: JSON.stringify({ endPoint: target.url, sourceFilter: APP_URL, typeFilter }),
        });
        await until(async () => (await json<{ status: string }>(`${eventsUrl}/subscriptions/${created.id}`, { headers: nav })).status === 'active', 10_000, 'validation');
      };

      // Latency: process/next's 2xx to arrival.
      const completed = await endpoint();
      endpoints.push(completed);
      await subscribe(completed, 'app.instance.process.completed');
      const person = bearer(platform.tokens.person);
      const latencies: number[] = [];
      log(`events: ${SAMPLES} completions through the app, one at a time`);
      for (let i = 0; i < SAMPLES; i += 1) {
        const instance = await json<{ id: string; data: Array<{ id: string; dataType: string }> }>(`${urls.app}/instances?instanceOwnerPartyId=50001`, {
          method: 'POST',
          headers: { ...person, 'content-type': 'application/json' },
          body: '{}',
        });
        const form = instance.data.find((d) => d.dataType === 'model')?.id;
        await json(`${urls.app}/instances/${instance.id}/data/${form}`, {
          method: 'PUT',
          headers: { ...person, 'content-type': 'application/xml' },
          body: '<ChildBenefit><applicant><name>Kari</name><personNumber>01017012345</personNumber><monthlyIncome>30000</monthlyIncome></applicant><children><name>Lise</name><birthYear>2022</birthYear></children></ChildBenefit>',
        });
        await json(`${urls.app}/instances/${instance.id}/process/next`, { method: 'PUT', headers: person });
        const answered = performance.now();
        const source = `${APP_URL}/instances/${instance.id}`;
        await until(() => completed.arrivals.has(source), 30_000, `arrival of ${instance.id}`);
        latencies.push((completed.arrivals.get(source) as number) - answered);
      }

      // Throughput: a backlog delivered to one subscription, then to four.
      const throughput: Array<{ subscriptions: number; perSecond: number }> = [];
      const appOwn = await testToken({ org: 'nav', app: 'nav/child-benefit' });
      for (const subscriptions of [1, 4]) {
        const targets = await Promise.all(Array.from({ length: subscriptions }, () => endpoint()));
        endpoints.push(...targets);
        for (const target of targets) await subscribe(target, 'app.instance.created');
        for (const target of targets) target.status = 503;
        log(`events: ${BACKLOG} instances created in storage while ${subscriptions} endpoint(s) answer 503`);
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < BACKLOG) {
              next += 1;
              await json(`${urls.storage}/instances?appId=nav/child-benefit`, {
                method: 'POST',
                headers: { ...person, platformaccesstoken: appOwn, 'content-type': 'application/json' },
                body: JSON.stringify({ instanceOwner: { partyId: '50001' } }),
              });
            }
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const started = performance.now();
        for (const target of targets) target.status = 200;
        await until(() => targets.every((target) => target.count >= BACKLOG), 600_000, 'the backlog');
        throughput.push({ subscriptions, perSecond: (subscriptions * BACKLOG) / ((performance.now() - started) / 1000) });
      }
      return {
        title: 'Events: completion to arrival, and delivery rate',
        lines: [
          `The events service in its own process relays storage's feed; a local endpoint records arrivals. ${SAMPLES} applications`,
          'completed one at a time through the app (create, form data, process/next).',
          '',
          '| Measure | Value |',
          '| --- | --- |',
          `| process/next 2xx → arrival, p50 | ${percentile(latencies, 50).toFixed(1)} ms |`,
          `| process/next 2xx → arrival, p99 | ${percentile(latencies, 99).toFixed(1)} ms |`,
          ...throughput.map(({ subscriptions, perSecond }) => `| events delivered per second, backlog of ${BACKLOG} to ${subscriptions} subscription(s) | ${perSecond.toFixed(0)} |`),
          '',
          'Reading: the latency is up to one relay interval (RELAY_INTERVAL_MS, 200 ms at rest) plus a storage read, a store',
          'write and one HTTP round trip. Delivery is one request at a time per subscription, and each 2xx is one durable',
          'store write (the position: a crash re-sends at most the event in flight); on the embedded default that write is an',
          'fsync, which bounds the rate whatever the number of subscriptions.',
        ],
      };
    } finally {
      await service?.stop();
      for (const target of endpoints) target.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
