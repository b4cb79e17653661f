import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { SIGNING_ALGORITHM, type Keyring } from './keyring';
import { subjectClaims, type TokenSubject } from './subjects';

/** The successful token response of RFC 6749 §5.1. */
export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface TokenIssuerOptions {
  issuer: string;
  audience: string;
  lifetimeSeconds: number;
  now?: () => number;
}

export interface TokenGrant {
  subject: TokenSubject;
  scopes: readonly string[];
  /** `sub`: the client id for client tokens, the person, org or system for test tokens. */
  sub: string;
  clientId?: string;
  /** Shorter than the configured lifetime, never longer (retired keys are kept for exactly that long). */
  lifetimeSeconds?: number;
}

/** Mints RS256 access tokens with the keyring's active key, in the claim shapes the platform's verifiers read. */
export class TokenIssuer {
  private readonly now: () => number;

  constructor(
    private readonly keyring: Keyring,
    private readonly options: TokenIssuerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get lifetimeSeconds(): number {
    return this.options.lifetimeSeconds;
  }

  async issue(grant: TokenGrant): Promise<IssuedToken> {
    const lifetime = Math.min(grant.lifetimeSeconds ?? this.options.lifetimeSeconds, this.options.lifetimeSeconds);
    const issuedAt = Math.floor(this.now() / 1000);
    const scope = grant.scopes.join(' ');
    const { kid, privateKey } = this.keyring.signingKey;
    const accessToken = await new SignJWT({
      ...subjectClaims(grant.subject),
      scope,
      ...(grant.clientId !== undefined ? { client_id: grant.clientId } : {}),
    })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(grant.sub)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + lifetime)
      .setJti(randomUUID())
      .sign(privateKey);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope };
  }
}
