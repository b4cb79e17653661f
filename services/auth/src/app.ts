import rateLimit from '@fastify/rate-limit';
import { createServer, healthRoutes, serverOptionsFrom, openApi, type LoggerOptions, type TypedFastify } from '@forms/service-kit';
import { createClientStore, DataDirLock, openKeyring, type ClientStore } from './adapters';
import { sharedRateLimitStore } from './shared-rate-limit';
import { ADMIN_PREFIX, API_PREFIX, tokenEndpointUrl, type AuthConfig } from './config';
import { AssertionVerifier } from './domain/assertions';
import { ClientRegistry } from './domain/clients';
import type { Keyring } from './domain/keyring';
import { TokenIssuer } from './domain/token-issuer';
import { TokenService } from './domain/token-service';
import adminRoutes from './routes/admin';
import discoveryRoutes from './routes/discovery';
import testTokenRoutes from './routes/test-token';
import tokenRoutes from './routes/token';

export interface AuthServiceOptions {
  config: AuthConfig;
  logger?: LoggerOptions | false;
  /** Defaults to the store the configuration names (MongoDB or embedded); it is opened here and closed with the app. */
  store?: ClientStore;
  /** Defaults to the keys the configuration names (SIGNING_KEY_PEM or the keyring file in DATA_DIR). */
  keyring?: Keyring;
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
}

/**
 * The token service: RS256 access tokens for registered clients (client credentials with a secret or a signed
 * assertion), the JWKS and discovery documents, development tokens when enabled, and the admin API when an
 * admin key is configured. Listen on it with `listenWithGracefulShutdown` (see server.ts), or just `listen`.
 */
export async function buildAuthService(options: AuthServiceOptions): Promise<TypedFastify> {
  const { config } = options;
  const now = options.now ?? Date.now;
  // State kept in DATA_DIR lives in this process's memory; lock it so the CLI cannot write beside us.
  const ownsEmbeddedState = (!options.store && !config.MONGODB_URL) || (!options.keyring && config.signingKeyPem === undefined);
  const lock = ownsEmbeddedState ? await DataDirLock.acquire(config.DATA_DIR) : undefined;
  const store = options.store ?? createClientStore(config);
  let keyring: Keyring;
  try {
    await store.init();
    keyring = options.keyring ?? (await openKeyring(config, now));
  } catch (error) {
    await store.close().catch(() => undefined);
    await lock?.release();
    throw error;
  }

  const app = createServer({
    name: 'auth',
    trustProxy: config.TRUST_PROXY,
    ...serverOptionsFrom(config, options.logger),
    redact: ['req.body.client_assertion', 'req.body.assertion', 'req.headers["x-api-key"]'],
  });
  app.addHook('onClose', async () => {
    await store.close().catch((err: unknown) => app.log.warn({ err }, 'closing the client store failed'));
    await lock?.release();
  });

  const issuer = new TokenIssuer(keyring, { issuer: config.ISSUER, audience: config.AUDIENCE, lifetimeSeconds: config.TOKEN_LIFETIME_SECONDS, now });
  const assertions = new AssertionVerifier(store, {
    audiences: [config.ISSUER, tokenEndpointUrl(config)],
    clockSkewSeconds: config.CLOCK_SKEW_SECONDS,
    maxLifetimeSeconds: config.MAX_ASSERTION_LIFETIME_SECONDS,
    now,
  });
  const tokens = new TokenService(store, assertions, issuer);
  const limits = config.RATE_LIMIT_MAX > 0 ? { max: config.RATE_LIMIT_MAX, timeWindowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000 } : undefined;

  try {
    await registerRoutes(app, { config, store, keyring, issuer, tokens, limits, now });
  } catch (error) {
    await app.close(); // releases the store and the lock
    throw error;
  }
  return app;
}

interface Wiring {
  config: AuthConfig;
  store: ClientStore;
  keyring: Keyring;
  issuer: TokenIssuer;
  tokens: TokenService;
  limits: { max: number; timeWindowMs: number } | undefined;
  now: () => number;
}

async function registerRoutes(app: TypedFastify, { config, store, keyring, issuer, tokens, limits, now }: Wiring): Promise<void> {
  await app.register(openApi, {
    title: 'Token service',
    description: 'OAuth 2.0 client credentials (client secret or private_key_jwt) issuing RS256 access tokens for the platform.',
    version: '1.0.0',
    routePrefix: '/authentication/swagger',
  });
  // Only routes that ask for it are limited (config.rateLimit): the token endpoint per client, the rest per address.
  // Counted in the client store, so the limits hold for all replicas together.
  await app.register(rateLimit, { global: false, store: sharedRateLimitStore(store) });
  await app.register(healthRoutes, {
    checks: [
      { name: 'clients', check: () => store.ping() },
      { name: 'signingKey', check: async () => void keyring.signingKey },
    ],
  });
  await app.register(discoveryRoutes, { keyring, issuer: config.ISSUER });
  await app.register(tokenRoutes, { prefix: API_PREFIX, tokens, realm: config.ISSUER, rateLimit: limits });
  if (config.TEST_TOKENS_ENABLED) {
    await app.register(testTokenRoutes, { prefix: API_PREFIX, issuer, rateLimit: limits });
    app.log.warn('test tokens are enabled: anyone who can reach this service can mint tokens');
  }
  if (config.ADMIN_API_KEY !== undefined) {
    await app.register(adminRoutes, { prefix: ADMIN_PREFIX, apiKey: config.ADMIN_API_KEY, clients: new ClientRegistry(store, now), keyring, rateLimit: limits });
  }
}

export { loadAuthConfig, type AuthConfig, API_PREFIX, TOKEN_PATH, TEST_TOKEN_PATH, ADMIN_PREFIX, JWKS_PATH } from './config';
