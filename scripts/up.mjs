// `npm run up`: installs the dependencies only when node_modules does not match the lockfile (a start with
// everything installed needs no network), then starts the platform (scripts/start.ts) in this same process,
// so that npm's SIGINT and a terminal's Ctrl-C both reach the one process that stops the services in order.
import { createRequire } from 'node:module';
import { ensureInstalled } from './pnpm.mjs';

await ensureInstalled();
const require = createRequire(import.meta.url);
require('tsx/cjs');
require('./start.ts');
