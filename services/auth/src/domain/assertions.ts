import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { ClientStore } from './ports/client-store';
import type { ClientRecord } from './clients';
import { clientAuthenticationFailed, OAuthError } from './oauth-error';

/** RFC 7523 §2.2: the `client_assertion_type` of private_key_jwt. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Asymmetric algorithms only. `none` and the HMAC algorithms are never accepted: with HS256 a forger
 * could "sign" with the client's public key as the HMAC secret (algorithm confusion).
 */
export const ASSERTION_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Which key types can make a signature of each algorithm family, checked before the key is used. */
const KEY_TYPE_BY_ALGORITHM_PREFIX: Record<string, string> = { RS: 'rsa', PS: 'rsa', ES: 'ec', Ed: 'ed25519' };

/**
 * `client`: the assertion authenticates the client at the token endpoint (private_key_jwt, RFC 7523 §2.2);
 * failures are invalid_client. `grant`: the assertion is the authorization grant (RFC 7523 §2.1); failures are invalid_grant.
 */
export type AssertionPurpose = 'client' | 'grant';

export interface AssertionVerifierOptions {
  /** Values an assertion's `aud` may carry: our issuer and our token endpoint URL. */
  audiences: readonly string[];
  clockSkewSeconds: number;
  /** Longest accepted `exp - iat`, and how far ahead `exp` may be. */
  maxLifetimeSeconds: number;
  now?: () => number;
}

export interface VerifiedAssertion {
  client: ClientRecord;
  claims: JWTPayload;
}

const MAX_JTI_LENGTH = 256;

/**
 * Checks client assertions. Everything that can be judged without the client (shape, algorithm, time window,
 * audience) is checked first and named in the answer, which helps a developer and reveals nothing; an unknown
 * client, a wrong key or a bad signature all get the same answer. The jti is recorded only after the signature
 * is verified, so nobody can burn another client's assertion ids.
 */
export class AssertionVerifier {
  private readonly now: () => number;

  constructor(
    private readonly store: ClientStore,
    private readonly options: AssertionVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async verify(assertion: string, purpose: AssertionPurpose, expectedClientId?: string): Promise<VerifiedAssertion> {
    const reject = (description: string, reason: string = description): OAuthError =>
      purpose === 'client' ? new OAuthError('invalid_client', description, reason) : new OAuthError('invalid_grant', description, reason);
    const rejectOpaque = (reason: string): OAuthError =>
      purpose === 'client' ? clientAuthenticationFailed(reason) : new OAuthError('invalid_grant', 'The assertion was rejected', reason);

    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw reject('The assertion is not a signed JWT');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !ASSERTION_ALGORITHMS.includes(alg)) {
      throw reject(`Assertion algorithm ${JSON.stringify(alg ?? null)} is not accepted; sign with one of ${ASSERTION_ALGORITHMS.join(', ')}`);
    }

    const clientId = claims.iss;
    if (typeof clientId !== 'string' || clientId === '' || claims.sub !== clientId) {
      throw reject('The assertion must have iss and sub both set to the client id');
    }
    if (expectedClientId !== undefined && expectedClientId !== clientId) {
      throw reject('client_id does not match the assertion issuer');
    }
    if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > MAX_JTI_LENGTH) {
      throw reject(`The assertion needs a jti of 1 to ${MAX_JTI_LENGTH} characters`);
    }
    this.checkTimes(claims, reject);
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!audiences.some((audience) => this.options.audiences.includes(audience))) {
      throw reject(`The assertion audience must be one of ${this.options.audiences.join(', ')}`);
    }

    const client = await this.store.getClient(clientId);
    if (!client) throw rejectOpaque(`unknown client ${clientId}`);
    if (client.credential.method !== 'private_key_jwt') throw rejectOpaque(`client ${clientId} has no public key`);
    const jwk = client.credential.publicJwk;
    if (jwk.alg !== undefined && jwk.alg !== alg) throw rejectOpaque(`client ${clientId} signs with ${jwk.alg}, not ${alg}`);
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType !== KEY_TYPE_BY_ALGORITHM_PREFIX[alg.slice(0, 2)]) {
      throw rejectOpaque(`client ${clientId} has a ${key.asymmetricKeyType ?? 'unknown'} key, which cannot make ${alg} signatures`);
    }
    try {
      await jwtVerify(assertion, key, {
        algorithms: [alg],
        issuer: clientId,
        subject: clientId,
        audience: [...this.options.audiences],
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'jti'],
      });
    } catch (error) {
      throw rejectOpaque(`assertion of client ${clientId} failed verification: ${(error as Error).message}`);
    }

    // Remembered until the assertion could no longer pass the time checks anyway.
    const expiresAt = new Date(((claims.exp as number) + this.options.clockSkewSeconds) * 1000);
    if (!(await this.store.rememberAssertionId(clientId, claims.jti, expiresAt, new Date(this.now())))) {
      throw reject('The assertion has been used before; each needs a new jti', `replayed assertion jti of client ${clientId}`);
    }
    return { client, claims };
  }

  private checkTimes(claims: JWTPayload, reject: (description: string) => OAuthError): void {
    const now = this.now() / 1000;
    const { clockSkewSeconds: skew, maxLifetimeSeconds: maxLifetime } = this.options;
    const { exp, iat, nbf } = claims;
    if (typeof exp !== 'number') throw reject('The assertion needs an exp');
    if (typeof iat !== 'number') throw reject('The assertion needs an iat');
    if (exp <= now - skew) throw reject('The assertion has expired');
    if (iat > now + skew) throw reject('The assertion was issued in the future (iat); check the client clock');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + skew)) throw reject('The assertion is not valid yet (nbf)');
    if (exp - iat > maxLifetime || exp > now + maxLifetime + skew) {
      throw reject(`The assertion lives too long; exp may be at most ${maxLifetime} seconds after iat and from now`);
    }
  }
}
