import { measure, type Measurement } from '../lib/load';
import { BENCH_APP, bearer, json, PARTY, RARE_PARTY } from '../lib/platform';
import { log } from '../lib/processes';
import type { Scenario } from './scenario';

const PAGE_SIZE = 100;
const RARE_COUNT = 10;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * The org's query: page 1, page 500 (size 100, keyset-paged through `next` links) and a filter that matches
 * 10 of all instances (half created before the bulk, half after), each on one connection, alternated.
 */
export const query: Scenario = {
  id: 'query',
  async run(platform, settings) {
    const { storage: STORAGE } = platform.urls;
    const person = bearer(platform.tokens.person);
    const org = bearer(platform.tokens.org);
    const createRare = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await json(`${STORAGE}/instances?appId=${BENCH_APP}`, {
          method: 'POST',
          headers: { ...bearer(platform.tokens.rarePerson), platformaccesstoken: platform.tokens.app, 'content-type': 'application/json' },
          body: JSON.stringify({ instanceOwner: { partyId: RARE_PARTY } }),
        });
      }
    };
    await createRare(RARE_COUNT / 2);
    log(`  query: seeding ${settings.instances} instances`);
    await measure(
      {
        url: `${STORAGE}/instances?appId=${BENCH_APP}`,
        method: 'POST',
        headers: { ...person, platformaccesstoken: platform.tokens.app, 'content-type': 'application/json' },
        body: JSON.stringify({ instanceOwner: { partyId: PARTY } }),
        connections: 20,
        amount: settings.instances,
      },
      [],
    );
    await createRare(RARE_COUNT / 2);

    const firstPage = `${STORAGE}/instances?appId=${BENCH_APP}&size=${PAGE_SIZE}`;
    const wantedPage = Math.max(1, Math.min(500, Math.floor(settings.instances / PAGE_SIZE)));
    log(`  query: walking to page ${wantedPage}`);
    let pageUrl = firstPage;
    for (let page = 1; page < wantedPage; page++) {
      const next = (await json<{ next: string | null }>(pageUrl, { headers: org })).next;
      if (!next) break;
      pageUrl = next;
    }
    const rareUrl = `${STORAGE}/instances?appId=${BENCH_APP}&instanceOwner.partyId=${RARE_PARTY}&size=${PAGE_SIZE}`;
    const rare = await json<{ instances: unknown[] }>(rareUrl, { headers: org });
    if (rare.instances.length !== RARE_COUNT) throw new Error(`rare filter: ${rare.instances.length} instances, expected ${RARE_COUNT}`);

    const cases = [
      { name: 'page 1', url: firstPage },
      { name: `page ${wantedPage}`, url: pageUrl },
      { name: `filter matching ${RARE_COUNT} instances`, url: rareUrl },
    ];
    const runs = new Map<string, Measurement[]>(cases.map((c) => [c.name, []]));
    for (let round = 1; round <= settings.rounds; round++) {
      log(`  query: round ${round}/${settings.rounds}`);
      for (const c of cases) runs.get(c.name)?.push(await measure({ url: c.url, headers: org, connections: 1, duration: settings.seconds }, [platform.storage]));
    }
    const summary = cases.map((c) => {
      const measured = runs.get(c.name) as Measurement[];
      return {
        name: c.name,
        mean: median(measured.map((m) => m.mean)),
        p50: median(measured.map((m) => m.p50)),
        p99: median(measured.map((m) => m.p99)),
        cpu: median(measured.map((m) => m.cpuPerRequest.storage as number)),
      };
    });
    const page1 = summary[0] as (typeof summary)[number];
    return {
      title: 'Query',
      lines: [
        `${settings.instances + RARE_COUNT + 1} or more instances of one app (the request runs above add theirs), size ${PAGE_SIZE}, one connection.`,
        '',
        '| Query | mean ms | p50 ms | p99 ms | mean / page 1 mean | storage CPU µs/req | CPU / page 1 CPU |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...summary.map(
          (s) =>
            `| ${s.name} | ${s.mean.toFixed(2)} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${(s.mean / page1.mean).toFixed(2)} | ` +
            `${s.cpu.toFixed(0)} | ${(s.cpu / page1.cpu).toFixed(2)} |`,
        ),
        '',
        'Pages are keyset-paged: a later page should cost what page 1 costs. A filter that few instances match shows',
        'whether the store finds them by an index or reads every instance of the app to fill the page. autocannon gives',
        'percentiles in whole milliseconds; the mean (one connection: 1 / rate) and the CPU per query are the finer measures.',
      ],
    };
  },
};
