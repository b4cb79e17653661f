import buildGetJwks from 'get-jwks';
import { AuthError } from './errors';

export const SIGNING_ALGORITHM = 'RS256';

/** get-jwks reports these when the JWKS answered but holds no key with the token's `kid`. */
const KEY_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['JWK_NOT_FOUND', 'NO_JWKS']);

export interface SigningKeyResolverOptions {
  jwksUrl: string;
  cacheTtlMs: number;
  timeoutMs: number;
}

/** Returns the PEM public key for a `kid`, or throws an AuthError (unknown key: 401, JWKS unreachable: 503). */
export type ResolveSigningKey = (kid: string) => Promise<string>;

export function createSigningKeyResolver(options: SigningKeyResolverOptions): ResolveSigningKey {
  const url = new URL(options.jwksUrl);
  // Keys always come from the configured URL, never from a URL derived from the (unverified) token.
  // get-jwks fetches `${domain}/${jwksPath}`, so split the URL into those two parts.
  const domain = url.origin;
  const jwks = buildGetJwks({ ttl: options.cacheTtlMs, jwksPath: `${url.pathname}${url.search}` });

  /**
   * get-jwks keeps expired keys in a stale cache and serves them whenever a refetch fails, even
   * when the fresh JWKS says the key is gone. That would keep a removed key valid for another TTL,
   * so expire the entry now (reading it moves an expired one into the stale cache) and drop the copy.
   */
  function forgetStaleCopy(kid: string): void {
    const cacheKey = jwks.generateCacheKey(SIGNING_ALGORITHM, kid, `${domain}/`);
    jwks.cache.get(cacheKey);
    jwks.staleCache.delete(cacheKey);
  }

  return async function resolveSigningKey(kid: string): Promise<string> {
    forgetStaleCopy(kid);
    try {
      // A kid not in the cache triggers a fetch of the whole JWKS, so keys added by rotation work at once.
      return await withTimeout(jwks.getPublicKey({ domain, alg: SIGNING_ALGORITHM, kid }), options.timeoutMs);
    } catch (error) {
      if (isKeyNotFound(error)) {
        throw new AuthError('INVALID_TOKEN', `The issuer publishes no signing key with kid "${kid}"`, { cause: error });
      }
      throw new AuthError('JWKS_UNAVAILABLE', 'The token issuer’s signing keys could not be fetched', { cause: error });
    }
  };
}

function isKeyNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && KEY_NOT_FOUND_CODES.has(code);
}

/**
 * Node's fetch has no timeout of its own (get-jwks' `timeout` option is ignored by it), so a hanging
 * JWKS server would hang every request. The fetch itself keeps running; only our wait is bounded.
 */
async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`JWKS request timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
