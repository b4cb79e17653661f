import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { DomainError } from '@forms/contracts';

const generateRsaKeyPair = promisify(generateKeyPair);

/** The only algorithm the platform's verifiers accept (packages/auth-plugin). */
export const SIGNING_ALGORITHM = 'RS256';
const MIN_RSA_BITS = 2048;

/** A key as persisted. Private keys are PKCS#8 PEM; verify-only keys have none. */
export interface StoredSigningKey {
  kid: string;
  privateKeyPem?: string;
  publicJwk: JWK;
  createdAt: string;
  /** When the key stopped signing. */
  retiredAt?: string;
  /** Until when a retired key stays in the JWKS: every token it signed has expired by then, skew included. */
  verifyUntil?: string;
}

/** Where a managed keyring keeps its keys (a file in DATA_DIR; see adapters/file-keyring-store.ts). */
export interface KeyringStore {
  /** The saved keys, or undefined when nothing was saved yet. */
  load(): Promise<StoredSigningKey[] | undefined>;
  save(keys: readonly StoredSigningKey[]): Promise<void>;
}

export interface KeyInfo {
  kid: string;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt?: string;
  verifyUntil?: string;
}

export interface RotationResult {
  kid: string;
  retiredKid: string;
  /** The retired key is published until then. */
  verifyUntil: string;
}

export interface KeyringOptions {
  /** Lifetime of the tokens the keys sign, and the verifiers' clock tolerance: together, how long a retired key must keep verifying. */
  tokenLifetimeSeconds: number;
  clockSkewSeconds: number;
  now?: () => number;
}

interface LoadedKey {
  stored: StoredSigningKey;
  privateKey?: KeyObject;
}

/**
 * The signing keys: exactly one active key signs, retired keys stay published in the JWKS until every
 * token they signed has expired. Keys come either from configuration (fixed: rotate by redeploying with a
 * new SIGNING_KEY_PEM and the old one in PREVIOUS_SIGNING_KEYS_PEM) or from a KeyringStore (managed:
 * generated on first start, rotated in place).
 */
export class Keyring {
  private rotation: Promise<unknown> = Promise.resolve();

  private constructor(
    private keys: LoadedKey[],
    private readonly store: KeyringStore | undefined,
    private readonly options: Required<KeyringOptions>,
  ) {}

  /** Loads the keys saved in `store`, generating and saving a first key when there are none. */
  static async managed(store: KeyringStore, options: KeyringOptions): Promise<Keyring> {
    const resolved = resolveOptions(options);
    const saved = await store.load();
    if (saved === undefined || !saved.some((key) => key.retiredAt === undefined)) {
      const first = await generateKey(resolved.now());
      await store.save([...(saved ?? []), first.stored]);
      return new Keyring([...(saved ?? []).map(loadStoredKey), first], store, resolved);
    }
    const keyring = new Keyring(saved.map(loadStoredKey), store, resolved);
    await keyring.pruneExpired();
    return keyring;
  }

  /** A fixed keyring from PEMs: `activePem` signs, `previousPems` (public or private keys) only verify. */
  static async fromPem(activePem: string, previousPems: string | undefined, options: KeyringOptions): Promise<Keyring> {
    const resolved = resolveOptions(options);
    const createdAt = new Date(resolved.now()).toISOString();
    const active = await keyFromPrivateKey(parsePrivateKey(activePem, 'SIGNING_KEY_PEM'), createdAt);
    const previous: LoadedKey[] = [];
    for (const [index, pem] of splitPems(previousPems ?? '').entries()) {
      const publicKey = parsePublicKey(pem, `PREVIOUS_SIGNING_KEYS_PEM #${index + 1}`);
      const publicJwk = await publicJwkOf(publicKey);
      if (publicJwk.kid === active.stored.kid) continue;
      // Retired, without an end: the operator removes it from configuration once its tokens have expired.
      previous.push({ stored: { kid: publicJwk.kid as string, publicJwk, createdAt, retiredAt: createdAt } });
    }
    return new Keyring([...previous, active], undefined, resolved);
  }

  /** False for keys from configuration. */
  get rotatable(): boolean {
    return this.store !== undefined;
  }

  /** The key new tokens are signed with. */
  get signingKey(): { kid: string; privateKey: KeyObject } {
    const active = this.keys.find((key) => key.stored.retiredAt === undefined && key.privateKey);
    if (!active?.privateKey) throw new Error('keyring has no active signing key');
    return { kid: active.stored.kid, privateKey: active.privateKey };
  }

  /** The JWKS document: the active key and every retired key still within its verification period. */
  jwks(): { keys: JWK[] } {
    return { keys: this.published().map((key) => ({ ...key.stored.publicJwk })) };
  }

  describe(): KeyInfo[] {
    return this.published().map(({ stored }) => ({
      kid: stored.kid,
      status: stored.retiredAt === undefined ? 'active' : 'retired',
      createdAt: stored.createdAt,
      ...(stored.retiredAt !== undefined ? { retiredAt: stored.retiredAt } : {}),
      ...(stored.verifyUntil !== undefined ? { verifyUntil: stored.verifyUntil } : {}),
    }));
  }

  /**
   * Generates a new key that signs from now on; the current one is retired but stays published for
   * token lifetime + clock skew. Saved before it takes effect, so a crash cannot lose a key that signed tokens.
   */
  rotate(): Promise<RotationResult> {
    const result = this.rotation.then(() => this.rotateNow());
    this.rotation = result.catch(() => undefined); // one rotation at a time; a failed one does not block the next
    return result;
  }

  private async rotateNow(): Promise<RotationResult> {
    const store = this.store;
    if (!store) {
      throw new DomainError(
        'conflict',
        'KEYS_FROM_CONFIGURATION',
        'The signing key comes from SIGNING_KEY_PEM: rotate by deploying a new one and moving the old key to PREVIOUS_SIGNING_KEYS_PEM.',
      );
    }
    const now = this.options.now();
    const current = this.signingKey;
    const next = await generateKey(now);
    const verifyUntil = new Date(now + (this.options.tokenLifetimeSeconds + this.options.clockSkewSeconds) * 1000).toISOString();
    const retiredAt = new Date(now).toISOString();
    const keys = [
      ...this.keys
        .filter((key) => !isExpired(key.stored, now))
        .map((key) => (key.stored.kid === current.kid ? { ...key, stored: { ...key.stored, retiredAt, verifyUntil } } : key)),
      next,
    ];
    await store.save(keys.map((key) => key.stored));
    this.keys = keys;
    return { kid: next.stored.kid, retiredKid: current.kid, verifyUntil };
  }

  private published(): LoadedKey[] {
    const now = this.options.now();
    return this.keys.filter((key) => !isExpired(key.stored, now));
  }

  /** Drops keys past their verification period from the store, so private keys do not linger on disk. */
  private async pruneExpired(): Promise<void> {
    const now = this.options.now();
    if (!this.store || !this.keys.some((key) => isExpired(key.stored, now))) return;
    this.keys = this.keys.filter((key) => !isExpired(key.stored, now));
    await this.store.save(this.keys.map((key) => key.stored));
  }
}

const resolveOptions = (options: KeyringOptions): Required<KeyringOptions> => ({ now: Date.now, ...options });

const isExpired = (key: StoredSigningKey, now: number): boolean =>
  key.verifyUntil !== undefined && Date.parse(key.verifyUntil) <= now;

async function generateKey(now: number): Promise<LoadedKey & { privateKey: KeyObject }> {
  const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: MIN_RSA_BITS });
  return keyFromPrivateKey(privateKey, new Date(now).toISOString());
}

async function keyFromPrivateKey(privateKey: KeyObject, createdAt: string): Promise<LoadedKey & { privateKey: KeyObject }> {
  const publicJwk = await publicJwkOf(createPublicKey(privateKey));
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { stored: { kid: publicJwk.kid as string, privateKeyPem, publicJwk, createdAt }, privateKey };
}

/** The public JWK with `kid` = its RFC 7638 thumbprint: stable across restarts and identical on every instance sharing the key. */
async function publicJwkOf(publicKey: KeyObject): Promise<JWK> {
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  if (kty === undefined || n === undefined || e === undefined) throw new Error('not an RSA public key');
  const jwk: JWK = { kty, n, e };
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALGORITHM, use: 'sig' };
}

function loadStoredKey(stored: StoredSigningKey): LoadedKey {
  return stored.privateKeyPem === undefined ? { stored } : { stored, privateKey: parsePrivateKey(stored.privateKeyPem, `key ${stored.kid}`) };
}

function assertRsa(key: KeyObject, name: string): void {
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${name} is not an RSA key (tokens are signed with ${SIGNING_ALGORITHM})`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new Error(`${name} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`);
}

function parsePrivateKey(pem: string, name: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${name} is not a readable private key PEM`, { cause: error });
  }
  assertRsa(key, name);
  return key;
}

/** Accepts a public key or a private key (whose public half is taken). */
function parsePublicKey(pem: string, name: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`${name} is not a readable key PEM`, { cause: error });
  }
  assertRsa(key, name);
  return key;
}

function splitPems(text: string): string[] {
  return text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
}
