import type { Comparison } from './load';

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const cpu = (byProcess: Record<string, number>) =>
  Object.entries(byProcess)
    .map(([name, micros]) => `${name} ${fixed(micros)}`)
    .join(', ');

/** A table of alternated comparisons: req/s, p50 and p99 of both sides, the ratio, CPU µs per request per process. */
export function comparisonTable(rows: Comparison[]): string[] {
  return [
    '| Route | Conns | req/s | bare req/s | Ratio | p50 / p99 ms | bare p50 / p99 ms | CPU µs/req (platform) | CPU µs/req (bare) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.connections} | ${fixed(r.platform.rps)} | ${fixed(r.bare.rps)} | ${r.ratio.toFixed(3)} | ` +
        `${fixed(r.platform.p50, 1)} / ${fixed(r.platform.p99, 1)} | ${fixed(r.bare.p50, 1)} / ${fixed(r.bare.p99, 1)} | ` +
        `${cpu(r.platform.cpuPerRequest)} | ${cpu(r.bare.cpuPerRequest)} |`,
    ),
  ];
}
