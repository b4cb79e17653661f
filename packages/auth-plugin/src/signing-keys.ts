import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { AuthError } from './errors';

export const SIGNING_ALGORITHM = 'RS256';

export interface SigningKeySourceOptions {
  jwksUrl: string;
  /** How long a fetched JWKS is trusted before it is fetched again; bounds how long a removed key keeps working. */
  cacheTtlMs: number;
  /** Shortest time between two fetches caused by a kid the JWKS does not have. */
  refetchIntervalMs: number;
  timeoutMs: number;
  now?: () => number;
}

/** Returns the public key object for a token's protected header, or throws an AuthError (unknown key: 401, JWKS unreachable: 503). */
export type SigningKeySource = (header: JWSHeaderParameters) => Promise<KeyObject>;

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

const isNoMatchingKey = (error: unknown) => (error as { code?: unknown } | null)?.code === 'ERR_JWKS_NO_MATCHING_KEY';

/**
 * The issuer's keys, from its JWKS at the configured URL (never from a URL named in a token).
 * - jose's local key set imports each JWK once and keeps the key object, so no PEM is built or parsed per request.
 * - The set is fetched again once `cacheTtlMs` has passed; a removed key stops working then. A failed fetch
 *   answers 503, it never falls back to the old set. Concurrent callers share one fetch.
 * - A kid the set does not have fetches it again at once (a rotation is seen on the first token with the new
 *   kid), but such refetches happen at most once per `refetchIntervalMs`, so tokens with made-up kids cannot
 *   make us hammer the issuer.
 */
export function createSigningKeySource(options: SigningKeySourceOptions): SigningKeySource {
  const now = options.now ?? Date.now;
  let keySet: LocalKeySet | undefined;
  let fetchedAt = 0;
  let lastRefetchForUnknownKid = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  function reload(): Promise<void> {
    pending ??= fetchKeySet(options.jwksUrl, options.timeoutMs)
      .then((jwks) => {
        keySet = createLocalJWKSet(jwks);
        fetchedAt = now();
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  async function lookUp(header: JWSHeaderParameters): Promise<KeyObject> {
    if (pending) await pending;
    if (!keySet || now() - fetchedAt >= options.cacheTtlMs) await reload();
    try {
      return (await (keySet as LocalKeySet)(header)) as KeyObject;
    } catch (error) {
      if (!isNoMatchingKey(error) || now() - lastRefetchForUnknownKid < options.refetchIntervalMs) throw error;
      lastRefetchForUnknownKid = now();
      await reload();
      return (await (keySet as LocalKeySet)(header)) as KeyObject;
    }
  }

  return async function signingKey(header) {
    try {
      return await lookUp(header);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
        throw new AuthError('INVALID_TOKEN', `The issuer publishes no signing key with kid ${JSON.stringify(header.kid)}`, { cause: error });
      }
      throw new AuthError('JWKS_UNAVAILABLE', 'The token issuer’s signing keys could not be fetched', { cause: error });
    }
  };
}

/** The JWKS document, within `timeoutMs` (body included). Rare (once per TTL), so fetch's set-up cost does not matter. */
async function fetchKeySet(url: string, timeoutMs: number): Promise<JSONWebKeySet> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`The JWKS answered HTTP ${response.status}`);
  }
  const jwks = (await response.json()) as JSONWebKeySet;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw new Error('The JWKS is not a key set');
  return jwks;
}
