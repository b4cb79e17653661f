import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { loadConfig, ServerConfig } from '@forms/service-kit';

/**
 * Everything the token service reads from its environment. With nothing set it runs embedded: clients and
 * replay records in DATA_DIR, and a signing key generated there on first start. MONGODB_URL switches the
 * client store to MongoDB; SIGNING_KEY_PEM (or SIGNING_KEY_PEM_FILE) supplies the signing key.
 */
export const AuthConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  // 5100 and http://127.0.0.1:5100 are what the storage service expects of the token service by default.
  PORT: Type.Integer({ default: 5100, minimum: 0, maximum: 65535 }),
  ISSUER: Type.String({ default: 'http://127.0.0.1:5100', description: 'Public base URL; the `iss` of every token' }),
  AUDIENCE: Type.String({ default: 'forms-platform', minLength: 1, description: 'The `aud` of every token' }),
  DATA_DIR: Type.String({ default: '.data/auth' }),
  MONGODB_URL: Type.Optional(Type.String()),
  MONGODB_DATABASE: Type.String({ default: 'auth' }),
  REPLICAS: Type.Integer({
    default: 1,
    minimum: 1,
    description: 'How many token-service processes run; more than 1 needs MONGODB_URL and SIGNING_KEY_PEM(_FILE)',
  }),
  SINGLE_NODE: Type.Boolean({ default: false, description: 'Exactly one process runs: allows MongoDB with a key generated into DATA_DIR' }),
  TOKEN_LIFETIME_SECONDS: Type.Integer({ default: 1800, minimum: 60, maximum: 86_400 }),
  CLOCK_SKEW_SECONDS: Type.Integer({ default: 30, minimum: 0, maximum: 300 }),
  MAX_ASSERTION_LIFETIME_SECONDS: Type.Integer({ default: 120, minimum: 10, maximum: 600 }),
  SIGNING_KEY_PEM: Type.Optional(Type.String({ description: 'RSA private key (PKCS#8 or PKCS#1 PEM) that signs tokens' })),
  SIGNING_KEY_PEM_FILE: Type.Optional(Type.String({ description: 'File holding SIGNING_KEY_PEM, e.g. a mounted secret' })),
  PREVIOUS_SIGNING_KEYS_PEM: Type.Optional(
    Type.String({ description: 'Earlier keys (public or private PEMs, concatenated) still published for verification' }),
  ),
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 16 })),
  TEST_TOKENS_ENABLED: Type.Boolean({ default: false }),
  NODE_ENV: Type.Optional(Type.String()),
  PRODUCTION: Type.Boolean({ default: false }),
  RATE_LIMIT_MAX: Type.Integer({ default: 60, minimum: 0, description: 'Token requests per client and window; 0 disables' }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ default: 60, minimum: 1 }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  ...ServerConfig,
});

export type AuthConfig = Static<typeof AuthConfigSchema> & {
  /** The signing key PEM, from SIGNING_KEY_PEM or read from SIGNING_KEY_PEM_FILE. */
  signingKeyPem?: string;
};

/** Reads and checks the configuration; throws, naming the variable, on anything it would not run with. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  // An empty variable counts as unset (compose files often pass `VAR: ""` or `${VAR:-}`): ADMIN_API_KEY="" disables the admin API.
  const config: AuthConfig = loadConfig(AuthConfigSchema, Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (config.TEST_TOKENS_ENABLED && (isProductionName(config.NODE_ENV) || config.PRODUCTION)) {
    throw new Error('TEST_TOKENS_ENABLED must not be set in production (NODE_ENV=production or PRODUCTION=true)');
  }
  try {
    const issuer = new URL(config.ISSUER);
    if (issuer.protocol !== 'http:' && issuer.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new Error(`ISSUER "${config.ISSUER}" is not an absolute http(s) URL`);
  }
  config.ISSUER = config.ISSUER.replace(/\/+$/, '');
  if (config.SIGNING_KEY_PEM !== undefined && config.SIGNING_KEY_PEM_FILE !== undefined) {
    throw new Error('set SIGNING_KEY_PEM or SIGNING_KEY_PEM_FILE, not both');
  }
  const pem = config.SIGNING_KEY_PEM_FILE !== undefined ? readFileSync(config.SIGNING_KEY_PEM_FILE, 'utf8') : config.SIGNING_KEY_PEM;
  if (pem !== undefined) config.signingKeyPem = normalisePem(pem);
  if (config.PREVIOUS_SIGNING_KEYS_PEM !== undefined) config.PREVIOUS_SIGNING_KEYS_PEM = normalisePem(config.PREVIOUS_SIGNING_KEYS_PEM);
  checkDeployment(config);
  return config;
}

/**
 * Several replicas share clients, used assertion ids and rate limits through MongoDB and must sign with
 * one key: a key generated on first start lives in one DATA_DIR. MongoDB with a generated key works for one
 * process only, which the operator must say (SINGLE_NODE=true).
 */
function checkDeployment(config: AuthConfig): void {
  if (config.REPLICAS > 1) {
    if (config.SINGLE_NODE) throw new Error(`SINGLE_NODE=true contradicts REPLICAS=${config.REPLICAS}`);
    const missing = [
      !config.MONGODB_URL && 'MONGODB_URL (clients, used assertions and rate limits in DATA_DIR serve one process)',
      config.signingKeyPem === undefined && 'SIGNING_KEY_PEM or SIGNING_KEY_PEM_FILE (a key generated into DATA_DIR is one replica\'s own)',
    ].filter(Boolean);
    if (missing.length > 0) throw new Error(`REPLICAS=${config.REPLICAS} needs ${missing.join(', ')}`);
  } else if (config.MONGODB_URL && config.signingKeyPem === undefined && !config.SINGLE_NODE) {
    throw new Error(
      'MONGODB_URL is set but no SIGNING_KEY_PEM(_FILE): each replica would generate a signing key of its own. Give the key, or SINGLE_NODE=true if exactly one token-service process runs.',
    );
  }
}

/** A PEM put into a one-line variable often arrives with literal `\n`s; turn them back into newlines. */
const normalisePem = (pem: string): string => pem.replace(/\\n/g, '\n').trim();

export const API_PREFIX = '/authentication/api/v1';
export const TOKEN_PATH = `${API_PREFIX}/token`;
export const TEST_TOKEN_PATH = `${API_PREFIX}/testtoken`;
export const ADMIN_PREFIX = `${API_PREFIX}/admin`;
export const JWKS_PATH = '/.well-known/jwks.json';

/** The token endpoint's public URL, one of the two audiences a client assertion may name. */
export const tokenEndpointUrl = (config: Pick<AuthConfig, 'ISSUER'>): string => `${config.ISSUER}${TOKEN_PATH}`;

/**
 * Production under any spelling (`production`, `Production`, ` PROD `, `prod`): a test-token switch must fail
 * safe, so anything that looks like production counts.
 */
export function isProductionName(nodeEnv: string | undefined): boolean {
  return nodeEnv !== undefined && /^prod(uction)?$/.test(nodeEnv.trim().toLowerCase());
}
