#!/usr/bin/env node
/** forms-cli entry point: `npm run -s forms -- …` (or `pnpm -s forms …`) from the repository, or the `forms` bin. */
import { run } from './cli';
import { userFolder } from './io';

// Ctrl-C ends a command that follows a feed after the event in hand; a second one exits at once.
const stop = new AbortController();
process.once('SIGINT', () => {
  stop.abort();
  process.once('SIGINT', () => process.exit(130));
});

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: userFolder(process.env, process.cwd()), signal: stop.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`forms-cli: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
