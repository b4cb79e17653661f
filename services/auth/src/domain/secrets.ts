import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters: N = 2^14, r = 8, p = 1 (16 MiB, tens of milliseconds), a 32-byte hash and a 16-byte salt. */
const PARAMETERS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A new client secret: 32 random bytes, base64url (43 characters). Shown once; only its hash is kept. */
export const generateClientSecret = (): string => randomBytes(32).toString('base64url');

/** `scrypt$N$r$p$<salt>$<hash>`, salt and hash base64url: the parameters travel with the hash, so they can be raised later. */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await scryptAsync(secret, salt, KEY_LENGTH, PARAMETERS);
  return ['scrypt', PARAMETERS.N, PARAMETERS.r, PARAMETERS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Compares in constant time. A malformed stored hash never matches. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (!N || !r || !p || salt.length === 0 || expected.length === 0) return false;
  const actual = await scryptAsync(secret, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash no secret matches in practice, checked against when the client is unknown or has no secret,
 * so those answers take as long as a wrong secret and do not tell which it was.
 */
let dummyHash: Promise<string> | undefined;
export async function verifyAgainstDummy(secret: string): Promise<void> {
  dummyHash ??= hashClientSecret(generateClientSecret());
  await verifyClientSecret(secret, await dummyHash);
}
