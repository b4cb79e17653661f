/**
 * The architecture reads from the tree and stays that way: no import cycle (type-only imports count), no domain
 * module importing adapters, routes or plugins (the domain owns its ports) or HTTP code (Fastify, src/http/),
 * no source file over 400 lines.
 * Each check is also run on a small tree that breaks it, so a check that has stopped seeing anything fails too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, MAX_LINES, oversizedFiles, ROOT, sourceFolders } from './support/architecture';

const CRUISED = ['services', 'packages', 'test-support', 'scripts', 'bench', 'apps'];

describe('the repository', () => {
  test('has no import cycle, and no domain module that imports adapters, routes, plugins or HTTP code', async () => {
    const result = await cruise(CRUISED);
    expect(result.violations).toEqual([]);
    expect(result.unresolved).toEqual([]);
    // The cruise saw the domains, their ports and the adapters, and followed imports across packages.
    expect(result.modules).toEqual(
      expect.arrayContaining([
        'services/storage/src/domain/instance-service.ts',
        'services/storage/src/domain/ports/metadata-store.ts',
        'services/storage/src/adapters/metadata/mongo-metadata-store.ts',
        'services/auth/src/domain/ports/client-store.ts',
        'packages/contracts/src/index.ts',
        'packages/cli/src/commands/sync.ts',
      ]),
    );
  }, 120_000);

  test(`has no source file over ${MAX_LINES} lines`, () => {
    expect(oversizedFiles(ROOT, sourceFolders(ROOT))).toEqual([]);
  });
});

describe('the checks see a broken tree', () => {
  let tree: string;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  };
  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'architecture-'));
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  test('a cycle (through a type-only import too), a domain module importing an adapter, a route and a plugin, and one using HTTP', async () => {
    write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'CommonJS', moduleResolution: 'Node10' } }));
    write('node_modules/fastify/package.json', JSON.stringify({ name: 'fastify', main: 'fastify.js' }));
    write('node_modules/fastify/fastify.js', 'module.exports = {};\n');
    write('services/demo/src/domain/handler.ts', "import type { FastifyRequest } from 'fastify';\nimport { status } from '../http/status';\nexport type H = FastifyRequest | typeof status;\n");
    write('services/demo/src/http/status.ts', 'export const status = 404;\n');
    write('services/demo/src/domain/orders.ts', "import type { Store } from '../adapters/store';\nexport type Orders = { store: Store };\n");
    write('services/demo/src/domain/uses-http.ts', "import { route } from '../routes/orders';\nimport { plugin } from '../plugins/wiring';\nexport const both = [route, plugin];\n");
    write('services/demo/src/domain/ports/fine.ts', 'export interface Fine { ok: true }\n');
    write('services/demo/src/adapters/store.ts', "import type { Fine } from '../domain/ports/fine';\nexport type Store = Fine;\n");
    write('services/demo/src/routes/orders.ts', 'export const route = 1;\n');
    write('services/demo/src/plugins/wiring.ts', 'export const plugin = 2;\n');
    write('packages/ring/src/a.ts', "import type { B } from './b';\nexport interface A { b?: B }\n");
    write('packages/ring/src/b.ts', "import { c } from './c';\nexport interface B { c: typeof c }\n");
    write('packages/ring/src/c.ts', "import type { A } from './a';\nexport const c: A | undefined = undefined;\n");

    const result = await cruise(['services', 'packages'], tree);
    const byRule = (rule: string) => result.violations.filter((v) => v.rule === rule).map(({ from, to }) => `${from} -> ${to}`);
    expect(byRule('domain-owns-its-ports').sort()).toEqual([
      'services/demo/src/domain/orders.ts -> services/demo/src/adapters/store.ts',
      'services/demo/src/domain/uses-http.ts -> services/demo/src/plugins/wiring.ts',
      'services/demo/src/domain/uses-http.ts -> services/demo/src/routes/orders.ts',
    ]);
    expect(byRule('domain-knows-no-http').sort()).toEqual([
      'services/demo/src/domain/handler.ts -> node_modules/fastify/fastify.js',
      'services/demo/src/domain/handler.ts -> services/demo/src/http/status.ts',
    ]);
    const cycles = result.violations.filter((v) => v.rule === 'no-circular');
    expect(cycles.length).toBeGreaterThan(0);
    expect(cycles.every((v) => v.from.startsWith('packages/ring/src/'))).toBe(true);
    expect(result.unresolved).toEqual([]);
  }, 120_000);

  test(`a file of ${MAX_LINES + 1} lines, and not one of ${MAX_LINES}`, () => {
    write('services/demo/src/long.ts', 'export {};\n'.repeat(MAX_LINES + 1));
    write('services/demo/src/at-limit.ts', 'export {};\n'.repeat(MAX_LINES));
    write('services/demo/src/node_modules/dep/huge.ts', 'x;\n'.repeat(5000));
    expect(oversizedFiles(tree, ['services/demo/src'])).toEqual([{ file: 'services/demo/src/long.ts', lines: MAX_LINES + 1 }]);
  });
});
