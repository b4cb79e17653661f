import { createHmac, generateKeyPair, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Claims } from '@forms/contracts';

const generateRsaKeyPair = promisify(generateKeyPair);

export const JWKS_PATH = '/.well-known/jwks.json';
const DEFAULT_LIFETIME_SECONDS = 300;
const DEFAULT_USER_AUTH_LEVEL = 2;

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
}

export type TokenAlgorithm = 'RS256' | 'HS256' | 'none';

export interface TokenOptions {
  /** Seconds from now until `exp`; negative for an already expired token. Default 300. */
  expiresInSeconds?: number;
  /** When set, `nbf` is now + this many seconds (positive: not valid yet). */
  notBeforeSeconds?: number;
  /**
   * Header `kid`. A kid the issuer knows (also one removed from the JWKS) signs with that key;
   * an unknown kid is still signed with the current key. `null` omits the kid. Default: current key.
   */
  kid?: string | null;
  /**
   * Default RS256. `none` gives an unsigned token; `HS256` is signed with `hmacSecret`, which
   * defaults to the signing key's public PEM (the classic algorithm-confusion attack).
   */
  alg?: TokenAlgorithm;
  hmacSecret?: string | Buffer;
  /** Extra protected header parameters (e.g. `crit`), merged over the defaults. */
  header?: Record<string, unknown>;
}

/** Claim values; `undefined` removes a default claim (e.g. `{ iss: undefined }` for a token without issuer). */
export type TokenClaims = Record<string, unknown>;

export interface UserTokenInput {
  userId: string | number;
  partyId: string | number;
  /** Default 2 (a normal person login). */
  authLevel?: number;
  scopes?: readonly string[];
}

export interface OrgTokenInput {
  org: string;
  orgNumber?: string;
  scopes?: readonly string[];
}

export interface AppTokenInput {
  /** `<org>/<app>`; the org claim is its first half. */
  app: string;
  orgNumber?: string;
  /** Default: the service-owner scopes an app's client is registered with. */
  scopes?: readonly string[];
}

export interface SystemTokenInput {
  systemId: string;
  partyId: string | number;
  scopes?: readonly string[];
}

export interface TestIssuerOptions {
  /** `iss` of minted tokens. Default: the JWKS server's base URL, e.g. `http://127.0.0.1:40123`. */
  issuer?: string;
  /** When set, minted tokens carry it as `aud`. */
  audience?: string;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return { kid, privateKey, publicKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * A token issuer for tests: RS256 keys, a JWKS served on 127.0.0.1, and helpers that mint the
 * token shapes the platform accepts (and broken ones to prove they are refused).
 */
export class TestIssuer {
  /** Every key ever created, so tokens can still be signed with keys removed from the JWKS. */
  private readonly keysByKid = new Map<string, SigningKey>();
  private publishedKids: string[] = [];
  private jwksAvailable = true;
  private jwksRequests = 0;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly issuer: string,
    readonly audience: string | undefined,
  ) {}

  static async start(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    let issuerRef: TestIssuer | undefined; // the server needs its port before the issuer can exist
    const server = createServer((request, response) => issuerRef?.serve(request.method, request.url, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const issuer = new TestIssuer(server, baseUrl, options.issuer ?? baseUrl, options.audience);
    issuerRef = issuer;
    await issuer.rotateKey();
    return issuer;
  }

  get jwksUrl(): string {
    return `${this.baseUrl}${JWKS_PATH}`;
  }

  /** The kid new tokens are signed with (the most recently added key still in the JWKS). */
  get currentKid(): string {
    const kid = this.publishedKids[this.publishedKids.length - 1];
    if (kid === undefined) throw new Error('TestIssuer has no published signing key; call rotateKey()');
    return kid;
  }

  /** Kids currently served in the JWKS, oldest first. */
  get kids(): readonly string[] {
    return [...this.publishedKids];
  }

  /** How many times the JWKS has been requested, to observe verifiers' caching. */
  get jwksRequestCount(): number {
    return this.jwksRequests;
  }

  /** Public key of `kid` (default: current) as SPKI PEM. */
  publicKeyPem(kid: string = this.currentKid): string {
    return this.keyFor(kid).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  /** Adds a new key to the JWKS and signs with it from now on; older keys stay published. Returns its kid. */
  async rotateKey(): Promise<string> {
    const key = await createSigningKey();
    this.keysByKid.set(key.kid, key);
    this.publishedKids.push(key.kid);
    return key.kid;
  }

  /** Takes a key out of the JWKS (it can still sign, via `token(…, { kid })`). */
  removeKey(kid: string): void {
    this.keyFor(kid);
    this.publishedKids = this.publishedKids.filter((published) => published !== kid);
  }

  /** While false, the JWKS endpoint answers 503, as an issuer having an outage would. */
  setJwksAvailable(available: boolean): void {
    this.jwksAvailable = available;
  }

  userToken(input: UserTokenInput, options?: TokenOptions): string {
    return this.token(
      {
        [Claims.userId]: input.userId,
        [Claims.partyId]: input.partyId,
        [Claims.authLevel]: input.authLevel ?? DEFAULT_USER_AUTH_LEVEL,
        ...scopeClaim(input.scopes),
      },
      options,
    );
  }

  orgToken(input: OrgTokenInput, options?: TokenOptions): string {
    return this.token(
      {
        [Claims.org]: input.org,
        ...(input.orgNumber !== undefined ? { [Claims.orgNumber]: input.orgNumber } : {}),
        ...scopeClaim(input.scopes),
      },
      options,
    );
  }

  /** An app service's own token: its org, and the app it is (what the token service gives an app's client). */
  appToken(input: AppTokenInput, options?: TokenOptions): string {
    return this.token(
      {
        [Claims.org]: input.app.split('/')[0],
        [Claims.app]: input.app,
        ...(input.orgNumber !== undefined ? { [Claims.orgNumber]: input.orgNumber } : {}),
        ...scopeClaim(input.scopes ?? ['altinn:serviceowner/instances.read', 'altinn:serviceowner/instances.write']),
      },
      options,
    );
  }

  systemToken(input: SystemTokenInput, options?: TokenOptions): string {
    return this.token({ [Claims.systemId]: input.systemId, [Claims.partyId]: input.partyId, ...scopeClaim(input.scopes) }, options);
  }

  /** Mints any token: `claims` are merged over `iss`, `iat`, `exp`, `jti` (and `aud` when configured). */
  token(claims: TokenClaims, options: TokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const payload: TokenClaims = {
      iss: this.issuer,
      ...(this.audience !== undefined ? { aud: this.audience } : {}),
      iat: now,
      exp: now + (options.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS),
      ...(options.notBeforeSeconds !== undefined ? { nbf: now + options.notBeforeSeconds } : {}),
      jti: randomUUID(),
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];

    const alg = options.alg ?? 'RS256';
    const kid = options.kid === undefined ? this.currentKid : options.kid;
    const header = { alg, typ: 'JWT', ...(kid !== null ? { kid } : {}), ...options.header };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signingKey = kid !== null && this.keysByKid.has(kid) ? this.keyFor(kid) : this.keyFor(this.currentKid);

    switch (alg) {
      case 'none':
        return `${signingInput}.`;
      case 'HS256': {
        const secret = options.hmacSecret ?? signingKey.publicKey.export({ format: 'pem', type: 'spki' });
        return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
      }
      case 'RS256':
        return `${signingInput}.${sign('sha256', Buffer.from(signingInput), signingKey.privateKey).toString('base64url')}`;
    }
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    // Verifiers' fetch keeps connections alive; without this, close() would wait for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  private keyFor(kid: string): SigningKey {
    const key = this.keysByKid.get(kid);
    if (!key) throw new Error(`TestIssuer has no key with kid ${kid}`);
    return key;
  }

  private serve(method: string | undefined, url: string | undefined, response: ServerResponse): void {
    if (method !== 'GET' || url?.split('?')[0] !== JWKS_PATH) {
      response.writeHead(404).end();
      return;
    }
    this.jwksRequests += 1;
    if (!this.jwksAvailable) {
      response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unavailable' }));
      return;
    }
    const keys = this.publishedKids.map((kid) => this.keyFor(kid).publicJwk);
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ keys }));
  }
}

function scopeClaim(scopes: readonly string[] | undefined): TokenClaims {
  return scopes && scopes.length > 0 ? { scope: scopes.join(' ') } : {};
}
