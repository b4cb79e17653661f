#!/usr/bin/env node
// The token service's admin CLI (src/cli.ts) from the repository, through tsx (a dev dependency of the root):
// `npx forms-auth <command>` from anywhere in the repository; relative paths are the caller's.
require('tsx/cjs');
const { runCli } = require('../src/cli.ts');

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
