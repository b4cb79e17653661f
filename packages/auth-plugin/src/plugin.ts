import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '@forms/contracts';
import { AuthError } from './errors';
import { principalFromClaims } from './principal';
import { createSigningKeySource } from './signing-keys';
import { TokenVerifier } from './token-verifier';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; null on routes with `config: { auth: false }`. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Set to false to let a route through without a token (health checks, JWKS, docs). */
    auth?: boolean;
  }
}

export interface AuthPluginOptions {
  /** Absolute URL of the issuer's JWKS, e.g. `http://token:8080/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Exact `iss` value tokens must carry. */
  issuer: string;
  /** When set, tokens must carry it in `aud`. */
  audience?: string;
  /** Slack for `exp`/`nbf` against clock skew between hosts. Default 30. */
  clockToleranceSeconds?: number;
  /** How long a fetched key is trusted before the JWKS is asked again; bounds how long a removed key keeps working. Default 60 000. */
  jwksCacheTtlMs?: number;
  /**
   * Shortest time between two JWKS fetches caused by tokens with a kid it does not have (the first one is made at
   * once, so a rotation is seen on the first token signed with the new key). Default 5 000.
   */
  jwksRefetchIntervalMs?: number;
  /** Longest wait for the JWKS before answering 503. Default 5 000. */
  jwksTimeoutMs?: number;
  /**
   * When set (storage), a request may carry an app service's own token in this header beside the party's bearer
   * token: both are verified, and the principal is the party acting through that app (`via`).
   */
  accessTokenHeader?: string;
  /** Longest token lifetime (`exp - iat`) accepted: the issuer's maximum. Default 86 400 (the token service's cap). */
  maxTokenLifetimeSeconds?: number;
  /** How many verified tokens are remembered until their `exp`. Default 10 000; 0 turns the cache off. */
  verifiedTokenCacheSize?: number;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const DEFAULT_JWKS_CACHE_TTL_MS = 60_000;
const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
const DEFAULT_JWKS_REFETCH_INTERVAL_MS = 5_000;
const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;
const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** A JWT in compact form (RFC 7515): three base64url parts. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** RFC 6750 §2.1: `Bearer` followed by exactly one token. */
const BEARER_PATTERN = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Reads the bearer token, telling "no token at all" (401 UNAUTHENTICATED) from "garbled header" (401 INVALID_TOKEN). */
function bearerTokenOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw new AuthError('UNAUTHENTICATED', 'A bearer token is required');
  }
  const match = BEARER_PATTERN.exec(header);
  if (match?.[1]) return match[1];
  if (/^Bearer\b/i.test(header)) throw new AuthError('INVALID_TOKEN', 'The Authorization header is not "Bearer <token>"');
  throw new AuthError('UNAUTHENTICATED', 'A bearer token is required; other authorization schemes are not accepted');
}

type ResolvedOptions = AuthPluginOptions &
  Required<
    Pick<
      AuthPluginOptions,
      'clockToleranceSeconds' | 'jwksCacheTtlMs' | 'jwksRefetchIntervalMs' | 'jwksTimeoutMs' | 'maxTokenLifetimeSeconds' | 'verifiedTokenCacheSize'
    >
  >;

/** Fails registration (and so startup) on a misconfiguration rather than on the first request. */
function validatedOptions(options: AuthPluginOptions): ResolvedOptions {
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(options.jwksUrl);
  } catch {
    throw new Error(`auth-plugin: jwksUrl "${options.jwksUrl}" is not an absolute URL`);
  }
  if (jwksUrl.protocol !== 'http:' && jwksUrl.protocol !== 'https:') throw new Error('auth-plugin: jwksUrl must be http(s)');
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new Error('auth-plugin: issuer is required');
  const nonNegative = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0) throw new Error(`auth-plugin: ${name} must be a non-negative number`);
    return value;
  };
  const positive = (name: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`auth-plugin: ${name} must be a positive number`);
    return value;
  };
  return {
    jwksUrl: options.jwksUrl,
    issuer: options.issuer,
    audience: options.audience,
    ...(options.accessTokenHeader !== undefined && { accessTokenHeader: options.accessTokenHeader.toLowerCase() }),
    clockToleranceSeconds: nonNegative('clockToleranceSeconds', options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS),
    jwksCacheTtlMs: positive('jwksCacheTtlMs', options.jwksCacheTtlMs ?? DEFAULT_JWKS_CACHE_TTL_MS),
    jwksRefetchIntervalMs: nonNegative('jwksRefetchIntervalMs', options.jwksRefetchIntervalMs ?? DEFAULT_JWKS_REFETCH_INTERVAL_MS),
    jwksTimeoutMs: positive('jwksTimeoutMs', options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS),
    maxTokenLifetimeSeconds: positive('maxTokenLifetimeSeconds', options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
    verifiedTokenCacheSize: Math.floor(nonNegative('verifiedTokenCacheSize', options.verifiedTokenCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE)),
  };
}

async function authPluginImpl(app: FastifyInstance, rawOptions: AuthPluginOptions): Promise<void> {
  const options = validatedOptions(rawOptions);
  const keys = createSigningKeySource({
    jwksUrl: options.jwksUrl,
    cacheTtlMs: options.jwksCacheTtlMs,
    refetchIntervalMs: options.jwksRefetchIntervalMs,
    timeoutMs: options.jwksTimeoutMs,
  });
  const verifier = new TokenVerifier<Principal>(
    {
      issuer: options.issuer,
      ...(options.audience !== undefined && { audience: options.audience }),
      clockToleranceSeconds: options.clockToleranceSeconds,
      maxLifetimeSeconds: options.maxTokenLifetimeSeconds,
      cacheSize: options.verifiedTokenCacheSize,
      keys,
    },
    (claims) => {
      const principal = principalFromClaims(claims);
      if (!principal) throw new AuthError('INVALID_TOKEN', 'The token identifies no organisation, user or system');
      // Shared by every request that brings the same token: nobody may change it for the others.
      for (const value of Object.values(principal)) if (typeof value === 'object' && value !== null) Object.freeze(value);
      return Object.freeze(principal);
    },
  );

  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.auth === false) return;
    try {
      const principal = (await verifier.verify(bearerTokenOf(request))).value;
      request.principal = options.accessTokenHeader ? await actingThroughApp(request, principal, verifier, options.accessTokenHeader) : principal;
    } catch (error) {
      // Also set on the reply, for error handlers that ignore `error.headers`.
      if (error instanceof AuthError) reply.headers(error.headers);
      throw error;
    }
  });
}

/**
 * The caller acting through the app whose own token is in `header` (verified like the bearer token), if any:
 * a party gets `via`, an org (of that app only) is limited to the app.
 */
async function actingThroughApp(request: FastifyRequest, caller: Principal, verifier: TokenVerifier<Principal>, header: string): Promise<Principal> {
  const value = request.headers[header];
  if (value === undefined) return caller;
  if (typeof value !== 'string' || !TOKEN_PATTERN.test(value)) throw new AuthError('INVALID_TOKEN', `The ${header} header must hold one token`);
  const app = (await verifier.verify(value)).value;
  if (app.kind !== 'org' || app.app === undefined) throw new AuthError('INVALID_TOKEN', `The ${header} token is not an app's own token`);
  if (caller.kind !== 'org') return { ...caller, via: app.app };
  if (caller.org !== app.org || (caller.app !== undefined && caller.app !== app.app)) {
    throw new AuthError('INVALID_TOKEN', `The ${header} token is another organisation's app`);
  }
  return { ...caller, app: app.app };
}

/**
 * Verifies the RS256 bearer token of every request (except routes with `config: { auth: false }`)
 * against the issuer's JWKS and sets `request.principal`. Failures are thrown as AuthError.
 */
export const authPlugin = fp(authPluginImpl, { name: '@forms/auth-plugin', fastify: '5.x' });
