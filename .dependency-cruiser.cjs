/**
 * Architecture rules, checked by deploy/test/architecture.test.ts (and by hand with
 * `npx depcruise --config .dependency-cruiser.cjs services packages`).
 * Type-only imports count: a cycle or a wrong arrow through types still couples the modules.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles: each module can be read, tested and moved without the ones that use it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-owns-its-ports',
      severity: 'error',
      comment:
        'The domain knows nothing of adapters, routes or plugins: it declares the ports it needs in src/domain/ports/ and adapters implement them (routes -> domain <- adapters).',
      from: { path: '^services/[^/]+/src/domain/' },
      to: { path: '^services/[^/]+/src/(adapters|routes|plugins)/' },
    },
    {
      name: 'domain-knows-no-http',
      severity: 'error',
      comment: 'Domain code is plain functions and classes: no Fastify, no HTTP helpers; it throws DomainError and the edge maps it.',
      from: { path: '^services/[^/]+/src/domain/' },
      to: { path: ['^services/[^/]+/src/http/', '(^|/)node_modules/(fastify[^/]*|@fastify/[^/]+)/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
