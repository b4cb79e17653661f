// Production build for the container images (deploy/Dockerfile).
//
//   node scripts/build.mjs [storage] [auth] [events] [app] [--out-dir <dir>]      (default: all four)
//
// Bundles each service's entry point into services/<name>/dist/server.js (the token service also gets its admin
// CLI, dist/cli.js). Workspace packages (@forms/*) are compiled in; third-party packages stay external and come
// from node_modules. Building `app` also compiles every apps/<org>/<app>/rules.ts into a self-contained rules.js
// next to it (git-ignored): the bundled app service cannot load TypeScript, so it loads rules.js only.
// --out-dir writes the same layout under another folder instead of in place (used by the tests).
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Entry points per service, relative to services/<name>/src. */
const SERVICES = {
  storage: ['server'],
  auth: ['server', 'cli'],
  events: ['server'],
  app: ['server'],
};

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'out-dir': { type: 'string' } } });
const outRoot = resolve(values['out-dir'] ?? ROOT);
const targets = positionals.length > 0 ? positionals : Object.keys(SERVICES);
const unknown = targets.filter((target) => !(target in SERVICES));
if (unknown.length > 0) {
  console.error(`unknown service ${unknown.join(', ')}; choose from ${Object.keys(SERVICES).join(', ')}`);
  process.exit(2);
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  tsconfig: join(ROOT, 'tsconfig.json'),
  absWorkingDir: ROOT,
  logLevel: 'warning',
};

/** Everything that is not our own code (or a Node built-in) is loaded from node_modules at run time. */
const externalizeThirdParty = {
  name: 'externalize-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@forms/') ? undefined : { path: args.path, external: true }));
  },
};

for (const service of targets) {
  for (const entry of SERVICES[service]) {
    const outfile = join(outRoot, 'services', service, 'dist', `${entry}.js`);
    await build({
      ...common,
      entryPoints: [join(ROOT, 'services', service, 'src', `${entry}.ts`)],
      outfile,
      plugins: [externalizeThirdParty],
      // Read by packages/app-definition/src/rules.ts: a bundled service loads compiled rules.js files only.
      define: { FORMS_COMPILED_RULES_ONLY: 'true' },
    });
    console.log(`built ${relative(process.cwd(), outfile) || outfile}`);
  }
}

if (targets.includes('app')) {
  for (const appDir of appFolders()) {
    const source = join(appDir, 'rules.ts');
    if (!existsSync(source)) continue;
    const outfile = join(outRoot, relative(ROOT, appDir), 'rules.js');
    // Self-contained: @forms/app-definition (defineRules, RuleViolation) and any library the rules import are
    // inlined, so the app folder needs nothing from node_modules. The inlined RuleViolation is a second copy of
    // the class; the service recognises it by its brand (isRuleViolation), not by instanceof.
    await build({ ...common, sourcemap: 'inline', entryPoints: [source], outfile });
    console.log(`built ${relative(process.cwd(), outfile) || outfile}`);
  }
}

/** apps/<org>/<app> folders (those with an applicationmetadata.json). */
function appFolders() {
  const apps = join(ROOT, 'apps');
  if (!existsSync(apps)) return [];
  const folders = [];
  for (const org of readdirSync(apps, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    for (const app of readdirSync(join(apps, org.name), { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
      const folder = join(apps, org.name, app.name);
      if (existsSync(join(folder, 'applicationmetadata.json'))) folders.push(folder);
    }
  }
  return folders;
}
