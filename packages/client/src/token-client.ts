import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { DomainError } from '@forms/contracts';
import { HttpClient } from './http';

/** Where the token service takes token requests, below its base URL. */
export const TOKEN_PATH = '/authentication/api/v1/token';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of a client assertion; the token service accepts at most 120 s by default. */
const ASSERTION_LIFETIME_SECONDS = 60;
/** A cached token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 30_000;

/**
 * Client credentials (RFC 6749 §4.4) at the token service, authenticated with a secret (client_secret_basic or
 * client_secret_post) or with a private key (private_key_jwt, RFC 7523: a fresh signed assertion per request).
 */
export interface TokenClientOptions {
  /** Base URL of the token service, e.g. `http://127.0.0.1:5100`. */
  authUrl: string;
  clientId: string;
  clientSecret?: string;
  /** How the secret is sent. Default `client_secret_basic`. */
  secretMethod?: 'client_secret_basic' | 'client_secret_post';
  /** A private key (PEM, PKCS#8 or PKCS#1/SEC1, or a KeyObject) whose public key is registered for the client. */
  privateKey?: string | KeyObject;
  /** Signature algorithm of the assertion. Default: RS256, ES256/384/512 or EdDSA by the key's type. */
  algorithm?: string;
  /** `kid` header of the assertion, when the client's key has one. */
  keyId?: string;
  /** `aud` of the assertion. Default: the token endpoint URL; the token service also accepts its issuer. */
  audience?: string;
  /** Space-separated or a list; default: every scope the client is registered for. */
  scope?: string | readonly string[];
  timeoutMs?: number;
  now?: () => number;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
  /** Granted scopes, space-separated. */
  scope: string;
}

interface TokenResponseBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export class TokenClient {
  readonly tokenUrl: string;
  private readonly http: HttpClient;
  private readonly privateKey: KeyObject | undefined;
  private readonly algorithm: string | undefined;
  private readonly now: () => number;
  private cached: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;

  constructor(private readonly options: TokenClientOptions) {
    if ((options.clientSecret === undefined) === (options.privateKey === undefined)) {
      throw new Error('Give the client a secret or a private key (one of them)');
    }
    this.http = new HttpClient({ baseUrl: options.authUrl, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) }, {
      name: 'The token service',
      codePrefix: 'AUTH',
    });
    this.tokenUrl = `${this.http.baseUrl}${TOKEN_PATH}`;
    this.now = options.now ?? Date.now;
    if (options.privateKey !== undefined) {
      this.privateKey = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
      if (this.privateKey.type !== 'private') throw new Error('privateKey must be a private key');
      this.algorithm = options.algorithm ?? algorithmFor(this.privateKey);
    }
  }

  /** A new access token. */
  async getToken(): Promise<AccessToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    const scope = this.options.scope;
    if (scope !== undefined) form.set('scope', typeof scope === 'string' ? scope : scope.join(' '));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.privateKey) {
      form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      form.set('client_assertion', await this.assertion());
    } else if (this.options.secretMethod === 'client_secret_post') {
      form.set('client_id', this.options.clientId);
      form.set('client_secret', this.options.clientSecret as string);
    } else {
      // RFC 6749 §2.3.1: both parts are form-encoded before they are joined and base64-encoded.
      const credentials = `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret as string)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const requestedAt = this.now();
    const body = await this.http.json<TokenResponseBody>(TOKEN_PATH, {
      method: 'POST',
      headers,
      content: { body: form.toString(), options: { contentType: 'application/x-www-form-urlencoded' } },
    });
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new DomainError('unavailable', 'AUTH_UNAVAILABLE', 'The token service answered without an access token.');
    }
    // Counted from the request, not the answer, so the token is never thought to live longer than it does.
    return { accessToken: body.access_token, expiresAt: new Date(requestedAt + body.expires_in * 1000), scope: body.scope ?? '' };
  }

  /** A function giving a valid token for each call: cached, renewed shortly before it expires. For AppClient's `token`. */
  tokenProvider(): () => Promise<string> {
    return async () => {
      if (!this.cached || this.cached.expiresAt.getTime() - RENEW_BEFORE_MS <= this.now()) {
        this.pending ??= this.getToken().finally(() => {
          this.pending = undefined;
        });
        this.cached = await this.pending;
      }
      return this.cached.accessToken;
    };
  }

  /** A private_key_jwt client assertion: iss = sub = client id, a fresh jti, short-lived. */
  private assertion(): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: this.algorithm as string, typ: 'JWT', ...(this.options.keyId !== undefined && { kid: this.options.keyId }) })
      .setIssuer(this.options.clientId)
      .setSubject(this.options.clientId)
      .setAudience(this.options.audience ?? this.tokenUrl)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .sign(this.privateKey as KeyObject);
  }
}

const EC_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', 'P-256': 'ES256', secp384r1: 'ES384', 'P-384': 'ES384', secp521r1: 'ES512', 'P-521': 'ES512' };

function algorithmFor(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec': {
      const algorithm = EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (algorithm) return algorithm;
      break;
    }
    case 'ed25519':
      return 'EdDSA';
  }
  throw new Error(`No assertion algorithm for a ${key.asymmetricKeyType ?? 'unknown'} key; give one`);
}
