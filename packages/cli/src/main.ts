#!/usr/bin/env node
/** forms-cli entry point: `pnpm forms …` from the repository, or the `forms` bin. */
import { run } from './cli';

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`forms-cli: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
