// Bundles each service's entry point into services/<name>/dist/server.js for production images.
// Workspace packages (@forms/*) are compiled in; third-party packages stay external and come from node_modules.
import { build } from 'esbuild';

const services = process.argv.slice(2).length ? process.argv.slice(2) : ['storage'];
for (const service of services) {
  await build({
    entryPoints: [`services/${service}/src/server.ts`],
    outfile: `services/${service}/dist/server.js`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    tsconfig: 'tsconfig.json',
    // Everything that is not our own code is loaded from node_modules at run time.
    plugins: [
      {
        name: 'externalize-third-party',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@forms/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  console.log(`built services/${service}/dist/server.js`);
}
