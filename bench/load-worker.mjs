// The load generator, in its own process so its CPU is not the services' or the runner's: autocannon with the
// options given as JSON in argv[2]; prints one JSON line with what the runner needs.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]);
const result = await autocannon(options);
process.stdout.write(
  `${JSON.stringify({
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    rps: result.requests.average,
    // autocannon's latencies are whole milliseconds; by Little's law the mean follows from the rate exactly.
    mean: (options.connections * 1000) / result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    seconds: result.duration,
  })}\n`,
);
