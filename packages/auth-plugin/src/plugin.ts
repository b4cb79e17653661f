import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import fastifyJwt, { type FastifyJwtVerifyOptions, type TokenOrHeader } from '@fastify/jwt';
import type { Principal } from '@forms/contracts';
import { AuthError } from './errors';
import { principalFromClaims } from './principal';
import { createSigningKeyResolver, SIGNING_ALGORITHM } from './signing-keys';

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
  /** Longest wait for the JWKS before answering 503. Default 5 000. */
  jwksTimeoutMs?: number;
  /**
   * When set (storage), a request may carry an app service's own token in this header beside the party's bearer
   * token: both are verified, and the principal is the party acting through that app (`via`).
   */
  accessTokenHeader?: string;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const DEFAULT_JWKS_CACHE_TTL_MS = 60_000;
const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

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

/** Translates @fastify/jwt and fast-jwt failures into our stable codes; anything else is a bug and stays a 500. */
function toAuthError(error: unknown): unknown {
  if (error instanceof AuthError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  // @fastify/jwt prefixes fast-jwt's reason; our code already says the token is invalid.
  const reason = error instanceof Error ? error.message.replace(/^Authorization token is invalid: /, '') : code;
  switch (code) {
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
      return new AuthError('TOKEN_EXPIRED', 'The token has expired', { cause: error });
    case 'FAST_JWT_INACTIVE':
      return new AuthError('INVALID_TOKEN', 'The token is not valid yet', { cause: error });
    case 'FAST_JWT_MISSING_SIGNATURE':
      return new AuthError('INVALID_TOKEN', 'The token is not signed', { cause: error });
    default:
      if (code.startsWith('FST_JWT_') || code.startsWith('FAST_JWT_')) {
        return new AuthError('INVALID_TOKEN', `The token was rejected: ${reason}`, { cause: error });
      }
      return error;
  }
}

/** Splits the still-unverified token @fastify/jwt hands to `secret` (complete decoding is on). */
function unverifiedParts(tokenOrHeader: TokenOrHeader): { alg: unknown; kid: unknown; iss: unknown } {
  if (!('header' in tokenOrHeader)) return { alg: tokenOrHeader.alg, kid: tokenOrHeader.kid, iss: undefined };
  const payload: unknown = tokenOrHeader.payload;
  const iss = typeof payload === 'object' && payload !== null ? (payload as { iss?: unknown }).iss : undefined;
  return { alg: tokenOrHeader.header.alg, kid: tokenOrHeader.header.kid, iss };
}

type ResolvedOptions = AuthPluginOptions & Required<Pick<AuthPluginOptions, 'clockToleranceSeconds' | 'jwksCacheTtlMs' | 'jwksTimeoutMs'>>;

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
    jwksTimeoutMs: positive('jwksTimeoutMs', options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS),
  };
}

async function authPluginImpl(app: FastifyInstance, rawOptions: AuthPluginOptions): Promise<void> {
  const options = validatedOptions(rawOptions);
  const resolveSigningKey = createSigningKeyResolver({
    jwksUrl: options.jwksUrl,
    cacheTtlMs: options.jwksCacheTtlMs,
    timeoutMs: options.jwksTimeoutMs,
  });

  await app.register(fastifyJwt, {
    // Runs before the signature check, on the still-unverified token: reject what we would never
    // accept before touching the JWKS, so forged headers cannot make us fetch keys for nothing.
    secret: async (_request: FastifyRequest, tokenOrHeader: TokenOrHeader): Promise<string> => {
      const { alg, kid, iss } = unverifiedParts(tokenOrHeader);
      if (alg !== SIGNING_ALGORITHM) {
        throw new AuthError('INVALID_TOKEN', `Token algorithm ${JSON.stringify(alg ?? null)} is not accepted; only ${SIGNING_ALGORITHM} is`);
      }
      if (typeof kid !== 'string' || kid === '') throw new AuthError('INVALID_TOKEN', 'The token header has no kid');
      if (iss !== options.issuer) {
        throw new AuthError('INVALID_TOKEN', 'The token was not issued by the trusted issuer');
      }
      return resolveSigningKey(kid);
    },
    decode: { complete: true },
    verify: {
      algorithms: [SIGNING_ALGORITHM],
      allowedIss: options.issuer,
      ...(options.audience !== undefined ? { allowedAud: options.audience } : {}),
      // fast-jwt skips checks of absent claims, so demand the ones we rely on.
      requiredClaims: options.audience !== undefined ? ['iss', 'exp', 'aud'] : ['iss', 'exp'],
      clockTolerance: options.clockToleranceSeconds * 1000,
      // Our parser, so a missing or garbled header fails with our codes rather than @fastify/jwt's 400.
      extractToken: bearerTokenOf,
    },
  });

  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.auth === false) return;
    try {
      const claims = await request.jwtVerify<Record<string, unknown>>();
      const principal = principalFromClaims(claims);
      if (!principal) throw new AuthError('INVALID_TOKEN', 'The token identifies no organisation, user or system');
      request.principal = options.accessTokenHeader ? await actingThroughApp(request, principal, options.accessTokenHeader) : principal;
    } catch (error) {
      const failure = toAuthError(error);
      // Also set on the reply, for error handlers that ignore `error.headers`.
      if (failure instanceof AuthError) reply.headers(failure.headers);
      throw failure;
    }
  });
}

/**
 * The caller acting through the app whose own token is in `header` (verified like the bearer token), if any:
 * a party gets `via`, an org (of that app only) is limited to the app.
 */
async function actingThroughApp(request: FastifyRequest, caller: Principal, header: string): Promise<Principal> {
  const value = request.headers[header];
  if (value === undefined) return caller;
  if (typeof value !== 'string' || value === '') throw new AuthError('INVALID_TOKEN', `The ${header} header must hold one token`);
  // Same checks as the bearer token; only where the token is read from differs (@fastify/jwt merges per-call options).
  const fromHeader = { verify: { extractToken: () => value } } as unknown as FastifyJwtVerifyOptions;
  const claims = await request.jwtVerify<Record<string, unknown>>(fromHeader);
  const app = principalFromClaims(claims);
  if (app?.kind !== 'org' || app.app === undefined) throw new AuthError('INVALID_TOKEN', `The ${header} token is not an app's own token`);
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
