import { decodeJwt, jwtVerify, type JWSHeaderParameters, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { AuthError } from './errors';
import { SIGNING_ALGORITHM, type SigningKeySource } from './signing-keys';

export interface TokenVerifierOptions {
  issuer: string;
  audience?: string;
  clockToleranceSeconds: number;
  /** Longest accepted `exp - iat`: the issuer's own maximum. */
  maxLifetimeSeconds: number;
  /** Verified tokens remembered at once; 0 turns the cache off. */
  cacheSize: number;
  keys: SigningKeySource;
  now?: () => number;
}

export interface VerifiedToken<T> {
  claims: Readonly<JWTPayload>;
  /** What `accept` made of the claims, computed once per token. */
  value: T;
}

interface CacheEntry<T> {
  verified: VerifiedToken<T>;
  header: JWSHeaderParameters;
  /** `exp` in ms: the entry is never used at or after it. */
  expiresAt: number;
}

/** jose's error codes for a token that is simply not acceptable (not an outage, not a bug). */
const EXPIRED_CODES = new Set(['ERR_JWT_EXPIRED']);
const INVALID_CODES = new Set([
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
]);

function toAuthError(error: unknown): unknown {
  if (error instanceof AuthError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  if (EXPIRED_CODES.has(code)) return new AuthError('TOKEN_EXPIRED', 'The token has expired', { cause: error });
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: unknown }).claim === 'nbf') {
    return new AuthError('INVALID_TOKEN', 'The token is not valid yet', { cause: error });
  }
  if (INVALID_CODES.has(code)) {
    return new AuthError('INVALID_TOKEN', `The token was rejected: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/**
 * Verifies RS256 JWTs with jose: signature against the issuer's JWKS, `iss`, `aud`, `exp`/`nbf` with clock
 * tolerance, unknown `crit` header parameters refused (jose's default), and our own limits on `iat` (not in the
 * future beyond the tolerance) and on the lifetime `exp - iat`.
 *
 * A verified token is remembered, keyed by the whole token, until its `exp` (bounded in number, least recently
 * used first out), so a token the app and storage see several times per request is verified once. A remembered
 * token is still refused at its `exp` and as soon as its key is no longer in the JWKS the verifier holds.
 */
export class TokenVerifier<T> {
  private readonly cache: LRUCache<string, CacheEntry<T>> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly options: TokenVerifierOptions,
    private readonly accept: (claims: Readonly<JWTPayload>) => T,
  ) {
    this.now = options.now ?? Date.now;
    this.cache = options.cacheSize > 0 ? new LRUCache({ max: options.cacheSize }) : undefined;
  }

  async verify(token: string): Promise<VerifiedToken<T>> {
    const cached = this.cache?.get(token);
    if (cached) {
      if (this.now() < cached.expiresAt) {
        // Throws when the key has left the JWKS (or the JWKS is due a refetch and cannot be had).
        await this.options.keys(cached.header);
        return cached.verified;
      }
      this.cache?.delete(token);
    }
    try {
      return await this.verifyAndRemember(token);
    } catch (error) {
      throw toAuthError(error);
    }
  }

  private async verifyAndRemember(token: string): Promise<VerifiedToken<T>> {
    const { options } = this;
    let header: JWSHeaderParameters | undefined;
    const { payload } = await jwtVerify(
      token,
      // Runs after jose has read the header and checked alg and crit, before the signature check: refuse what
      // we would never accept before touching the JWKS, so forged tokens cannot make us fetch keys for nothing.
      async (protectedHeader) => {
        if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid === '') {
          throw new AuthError('INVALID_TOKEN', 'The token header has no kid');
        }
        if (unverifiedIssuer(token) !== options.issuer) throw new AuthError('INVALID_TOKEN', 'The token was not issued by the trusted issuer');
        header = protectedHeader;
        return options.keys(protectedHeader);
      },
      {
        algorithms: [SIGNING_ALGORITHM],
        issuer: options.issuer,
        ...(options.audience !== undefined && { audience: options.audience }),
        requiredClaims: ['exp', 'iat'],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: new Date(this.now()),
      },
    );
    this.checkIssuedAt(payload);
    const verified: VerifiedToken<T> = { claims: payload, value: this.accept(payload) };
    const expiresAt = (payload.exp as number) * 1000;
    if (this.cache && header && expiresAt > this.now()) this.cache.set(token, { verified, header, expiresAt });
    return verified;
  }

  /** `iat` not in the future (beyond the tolerance), and a lifetime the issuer could have given. */
  private checkIssuedAt(payload: JWTPayload): void {
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    const nowSeconds = this.now() / 1000;
    if (iat > nowSeconds + this.options.clockToleranceSeconds) {
      throw new AuthError('INVALID_TOKEN', 'The token was issued in the future (iat); check the issuer’s clock');
    }
    if (exp - iat > this.options.maxLifetimeSeconds) {
      throw new AuthError('INVALID_TOKEN', `The token lives longer than the ${this.options.maxLifetimeSeconds} seconds its issuer may give`);
    }
  }
}

function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined; // jose refuses the malformed payload itself after the signature check
  }
}
