import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes';

/**
 * The services as their images run them (deploy/Dockerfile): the production bundles of scripts/build.mjs,
 * started with `node --enable-source-maps dist/server.js`. Built once per bench run into a temporary folder
 * (removed at exit); third-party packages come from the workspace's node_modules through NODE_PATH (the image
 * has one hoisted node_modules instead), and the app folder gets its compiled rules.js beside a copy of its
 * other files.
 */
type Service = 'auth' | 'storage' | 'app' | 'events';

export interface Bundles {
  /** dist/server.js of a service. */
  server(service: Service): string;
  /** The app folder (APP_DIR) as an app image holds it: rules.js instead of rules.ts. */
  appDir(app: string): string;
  /** Where a service's bundle finds the packages it leaves external: its own node_modules first. */
  nodePath(service: Service): string;
}

let built: Bundles | undefined;

export function serviceBundles(): Bundles {
  if (built) return built;
  const out = mkdtempSync(join(tmpdir(), 'forms-bench-build-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'auth', 'storage', 'app', 'events', '--out-dir', out], { cwd: ROOT, stdio: 'ignore' });
  const packages = readdirSync(join(ROOT, 'packages')).map((name) => join(ROOT, 'packages', name, 'node_modules'));
  built = {
    server: (service) => join(out, 'services', service, 'dist', 'server.js'),
    appDir(app) {
      const folder = join(out, 'apps', app);
      cpSync(join(ROOT, 'apps', app), folder, { recursive: true, filter: (source) => !source.endsWith('rules.ts') });
      return folder;
    },
    nodePath: (service) => [join(ROOT, 'services', service, 'node_modules'), ...packages].filter((path) => existsSync(path)).join(':'),
  };
  // Kept while the bench runs: a scenario may start services of its own after the platform's.
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  return built;
}
