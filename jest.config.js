/** One jest run for the whole monorepo; workspace packages resolve to their TypeScript sources. */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    // ESM-only dependencies (cookie@2, used by fastify's inject) must be turned into CommonJS for jest.
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm/cookie@|cookie/)'],
  moduleNameMapper: {
    '^@forms/test-support$': '<rootDir>/test-support/src',
    '^@forms/([a-z-]+)$': ['<rootDir>/packages/$1/src', '<rootDir>/services/$1/src'],
  },
  globalSetup: '<rootDir>/test-support/backends/globalSetup.mjs',
  globalTeardown: '<rootDir>/test-support/backends/globalTeardown.mjs',
  testMatch: ['<rootDir>/{packages,services}/*/test/**/*.test.ts', '<rootDir>/deploy/test/**/*.test.ts', '<rootDir>/scripts/test/**/*.test.ts'],
  testTimeout: 30_000,
};
