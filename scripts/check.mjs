// `npm run check`: installs the dependencies when node_modules does not match the lockfile (the only step that
// may need the network), then type-checks and runs every test.
import { join } from 'node:path';
import { ensureInstalled, ROOT, run } from './pnpm.mjs';

await ensureInstalled();
const steps = [
  ['type-check', join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ['-p', 'tsconfig.json']],
  ['tests', join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), process.argv.slice(2)],
];
for (const [name, script, args] of steps) {
  const code = await run(process.execPath, [script, ...args]);
  if (code !== 0) {
    console.error(`npm run check: ${name} failed (exit code ${code})`);
    process.exit(code);
  }
}
