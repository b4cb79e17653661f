import type { Platform } from '../lib/platform';

export interface BenchSettings {
  /** Seconds of each load run. */
  seconds: number;
  /** How many times each side of a comparison runs, alternated. */
  rounds: number;
  instances: number;
  fileMb: number;
}

/** One section of BENCHMARKS.md: a title, its table(s) and how to read them. */
export interface Section {
  title: string;
  lines: string[];
}

/**
 * A benchmark scenario. The runner starts the platform once and runs each scenario in the order listed in
 * `scenarios/index.ts`, on that platform (use `platform.urls`); a scenario needing a platform of its own (another
 * store, a million instances) starts one with `startPlatform({ ports, storageEnv })` and stops it. Add one by
 * writing a module that exports a Scenario and listing it there.
 */
export interface Scenario {
  /** Short id, for BENCH_ONLY=<id>,<id>. */
  id: string;
  run(platform: Platform, settings: BenchSettings): Promise<Section>;
}
