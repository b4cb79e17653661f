import { compare, type Comparison } from '../lib/load';
import { BENCH_APP, bearer, PARTY, startStoreFloor } from '../lib/platform';
import { comparisonTable } from '../lib/report';
import type { Scenario } from './scenario';

/**
 * Each route against bare Fastify doing the same kind of request: the same method, the same Authorization header
 * (a real token from the token service), the same JSON body, and an answer of the same size (bare answers the
 * instance document storage answered).
 */
export const requests: Scenario = {
  id: 'requests',
  async run(platform, settings) {
    const { storage: STORAGE, app: APP, bare: BARE } = platform.urls;
    const bare = platform.bare;
    if (!bare) throw new Error('bare Fastify is not running');
    const person = bearer(platform.tokens.person);
    const json = { 'content-type': 'application/json' };
    // The app's own token beside the person's: storage creates instances only when the app asks.
    const viaApp = { platformaccesstoken: platform.tokens.app };
    const createBody = JSON.stringify({ instanceOwner: { partyId: PARTY } });
    const rows: Comparison[] = [];
    const duration = settings.seconds;

    rows.push(
      await compare(
        'storage GET instance',
        { spec: { url: `${STORAGE}/instances/${platform.instanceId}`, headers: person, connections: 100, duration }, processes: [platform.storage] },
        { spec: { url: `${BARE}/instances/${platform.instanceId}`, headers: person, connections: 100, duration }, processes: [bare] },
        settings.rounds,
      ),
    );
    rows.push(
      await compare(
        'storage POST instance',
        {
          spec: { url: `${STORAGE}/instances?appId=${BENCH_APP}`, method: 'POST', headers: { ...person, ...viaApp, ...json }, body: createBody, connections: 100, duration },
          processes: [platform.storage],
        },
        { spec: { url: `${BARE}/instances?appId=${BENCH_APP}`, method: 'POST', headers: { ...person, ...viaApp, ...json }, body: createBody, connections: 100, duration }, processes: [bare] },
        settings.rounds,
      ),
    );
    // The same request against bare Fastify plus only the store's durable write: how much of the gap is the write.
    const floor = await startStoreFloor(platform);
    try {
      rows.push(
        await compare(
          'bare + store write (floor)',
          { spec: { url: `${platform.urls.floor}/instances?appId=${BENCH_APP}`, method: 'POST', headers: { ...person, ...viaApp, ...json }, body: createBody, connections: 100, duration }, processes: [floor] },
          { spec: { url: `${BARE}/instances?appId=${BENCH_APP}`, method: 'POST', headers: { ...person, ...viaApp, ...json }, body: createBody, connections: 100, duration }, processes: [bare] },
          settings.rounds,
        ),
      );
    } finally {
      await floor.stop();
    }
    for (const connections of [10, 100]) {
      const url = `/instances?instanceOwnerPartyId=${PARTY}`;
      rows.push(
        await compare(
          'app POST /instances',
          { spec: { url: `${APP}${url}`, method: 'POST', headers: { ...person, ...json }, body: '{}', connections, duration }, processes: [platform.app, platform.storage] },
          { spec: { url: `${BARE}/nav/child-benefit${url}`, method: 'POST', headers: { ...person, ...json }, body: '{}', connections, duration }, processes: [bare] },
          settings.rounds,
        ),
      );
    }

    const tokenBytes = `Bearer ${platform.tokens.person}`.length;
    return {
      title: 'Requests against bare Fastify',
      lines: [
        ...comparisonTable(rows),
        '',
        `Both sides get the same ${tokenBytes}-byte Authorization header, method and body; bare Fastify parses the body`,
        'and answers the instance document storage answered, so request and response sizes match. Ratio = platform req/s',
        `over bare req/s, medians of ${settings.rounds} alternated runs of ${settings.seconds} s each. CPU µs/req is the CPU time (user +`,
        'system, from /proc/<pid>/stat, all threads) each service process used during the runs, divided by the requests',
        'answered: for app POST it is given for the app and for storage, which the app calls.',
        '',
        'Reading it: bare Fastify answers from memory, so the gap is what the platform does per request. A storage read',
        'verifies the token (a cached key object, and a cache of verified tokens: the same token is verified once until',
        'its exp), authorises, reads the store (the reads of one event-loop turn share a read transaction) and serialises',
        "through the response schema; a storage POST also checks the app's own token, writes the instance and its audit",
        'event in one SQLite transaction and answers once the write-ahead log is synced. Concurrent writes share that',
        'transaction and sync (group commit, ADR 0015): the sync runs on the thread pool and checkpoints in a worker thread,',
        'so the event loop does not wait for the disk, and one fsync serves many requests; new ids are time-ordered, so a',
        "batch's new keys share the last page of each index (ADR 0019). An app POST",
        "/instances runs the app's rules and its process start and calls storage once over HTTP (the instance with its",
        'prefilled form inline, one JSON request answered with the instance, ADR 0020): storage\'s CPU is that request, its two',
        'token checks, the content checks of the form and one transaction holding the instance, its events and the form',
        'itself (small content is kept in the metadata store, ADR 0018), answered after the shared log sync.',
        '',
        "The floor row (bench/store-floor.ts) is bare Fastify plus nothing but the write a storage POST makes, through storage's",
        'own embedded store: the instance and its Created event in one transaction, answered after the log sync; no token',
        'check, authorisation, validation or rules. Its ratio is the most a durable write per request allows on this machine;',
        "storage POST's distance from it is the rest of the platform.",
      ],
    };
  },
};
