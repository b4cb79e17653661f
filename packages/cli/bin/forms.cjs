#!/usr/bin/env node
// Runs the TypeScript sources through tsx (a dev dependency of the repository root).
require('tsx/cjs');
require('../src/main.ts');
