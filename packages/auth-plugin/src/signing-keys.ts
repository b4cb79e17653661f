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
  let current: FetchedKeySet | undefined;
  let lastRefetchForUnknownKid = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  function reload(): Promise<void> {
    pending ??= fetchKeySet(options.jwksUrl, options.timeoutMs)
      .then((jwks) => {
        current = { find: createLocalJWKSet(jwks), picked: new Map(), fetchedAt: now() };
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  const isFresh = (set: FetchedKeySet | undefined): set is FetchedKeySet => set !== undefined && now() - set.fetchedAt < options.cacheTtlMs;

  async function pick(header: JWSHeaderParameters): Promise<KeyObject> {
    const set = current as FetchedKeySet;
    const key = (await set.find(header)) as KeyObject;
    if (typeof header.kid === 'string') set.picked.set(pickedKey(header), key);
    return key;
  }

  async function lookUp(header: JWSHeaderParameters): Promise<KeyObject> {
    if (pending) await pending;
    if (!isFresh(current)) await reload();
    try {
      return await pick(header);
    } catch (error) {
      if (!isNoMatchingKey(error) || now() - lastRefetchForUnknownKid < options.refetchIntervalMs) throw error;
      lastRefetchForUnknownKid = now();
      await reload();
      return pick(header);
    }
  }

  return async function signingKey(header) {
    const known = !pending && isFresh(current) ? current.picked.get(pickedKey(header)) : undefined;
    if (known) return known;
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

interface FetchedKeySet {
  find: LocalKeySet;
  /** The key objects `find` has already picked out of this set, by alg and kid: a token seen again skips the search. */
  picked: Map<string, KeyObject>;
  fetchedAt: number;
}

const pickedKey = (header: JWSHeaderParameters) => `${header.alg} ${header.kid}`;

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
