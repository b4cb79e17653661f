import { events } from './events';
import { query } from './query';
import { requests } from './requests';
import type { Scenario } from './scenario';
import { streaming } from './streaming';
import { uploadScanningScenario } from './upload-scanning';

/** The scenarios `pnpm bench` runs, in this order (BENCH_ONLY=<id>,... picks some). Add new ones here. */
export const scenarios: Scenario[] = [requests, query, streaming, uploadScanningScenario, events];
