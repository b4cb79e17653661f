import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, jwtVerify, createLocalJWKSet, SignJWT } from 'jose';
import { FileKeyringStore } from '../../src/adapters/file-keyring-store';
import { Keyring } from '../../src/domain/keyring';

const LIFETIME = 1800;
const SKEW = 30;

function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

const pemOf = (bits = 2048) =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

async function signWith(keyring: Keyring): Promise<string> {
  const { kid, privateKey } = keyring.signingKey;
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('10m').sign(privateKey);
}

describe('managed keyring', () => {
  const newStore = () => new FileKeyringStore(join(mkdtempSync(join(tmpdir(), 'keyring-')), 'signing-keys.json'));

  it('generates a key on first start, saves it readable by the owner only, and loads the same key after a restart', async () => {
    const store = newStore();
    const first = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    const kid = first.signingKey.kid;
    expect(kid).toBe(await calculateJwkThumbprint(first.jwks().keys[0]!));
    expect(statSync(store.path).mode & 0o777).toBe(0o600);

    const restarted = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    expect(restarted.signingKey.kid).toBe(kid);
    expect(restarted.jwks().keys.map((key) => key.kid)).toEqual([kid]);
  });

  it('publishes only public key material', async () => {
    const keyring = await Keyring.managed(newStore(), { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    const [jwk] = keyring.jwks().keys;
    expect(Object.keys(jwk!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });

  it('rotates: the new key signs, the old one verifies until token lifetime + skew after retirement, then goes', async () => {
    const clock = fakeClock();
    const store = newStore();
    const keyring = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW, now: clock.now });
    const oldKid = keyring.signingKey.kid;
    const oldToken = await signWith(keyring);

    const rotated = await keyring.rotate();
    expect(rotated.retiredKid).toBe(oldKid);
    expect(rotated.kid).not.toBe(oldKid);
    expect(keyring.signingKey.kid).toBe(rotated.kid);
    expect(rotated.verifyUntil).toBe(new Date(clock.now() + (LIFETIME + SKEW) * 1000).toISOString());
    expect(keyring.jwks().keys.map((key) => key.kid)).toEqual([oldKid, rotated.kid]);
    expect(keyring.describe().map((key) => [key.kid, key.status])).toEqual([
      [oldKid, 'retired'],
      [rotated.kid, 'active'],
    ]);
    // A token signed before the rotation still verifies against the published keys.
    await expect(jwtVerify(oldToken, createLocalJWKSet(keyring.jwks()))).resolves.toBeDefined();

    clock.advance(LIFETIME + SKEW - 1);
    expect(keyring.jwks().keys.map((key) => key.kid)).toEqual([oldKid, rotated.kid]);
    clock.advance(1);
    expect(keyring.jwks().keys.map((key) => key.kid)).toEqual([rotated.kid]);

    // A restart after the period drops the retired private key from disk too.
    const restarted = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW, now: clock.now });
    expect(restarted.signingKey.kid).toBe(rotated.kid);
    expect(JSON.parse(readFileSync(store.path, 'utf8')).keys.map((key: { kid: string }) => key.kid)).toEqual([rotated.kid]);
  });

  it('keeps the rotation across a restart', async () => {
    const clock = fakeClock();
    const store = newStore();
    const keyring = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW, now: clock.now });
    const { kid, retiredKid } = await keyring.rotate();
    const restarted = await Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW, now: clock.now });
    expect(restarted.signingKey.kid).toBe(kid);
    expect(restarted.jwks().keys.map((key) => key.kid)).toEqual([retiredKid, kid]);
  });

  it('runs concurrent rotations one after the other, leaving one active key', async () => {
    const keyring = await Keyring.managed(newStore(), { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    const [first, second] = await Promise.all([keyring.rotate(), keyring.rotate()]);
    expect(second.retiredKid).toBe(first.kid);
    expect(keyring.describe().filter((key) => key.status === 'active').map((key) => key.kid)).toEqual([second.kid]);
  });

  it('refuses to start over a keyring file it cannot read rather than replace it', async () => {
    const store = newStore();
    writeFileSync(store.path, '{"version": 1, "keys": [{"nonsense": true}]}');
    await expect(Keyring.managed(store, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW })).rejects.toThrow(/not a keyring file/);
    expect(readFileSync(store.path, 'utf8')).toContain('nonsense');
  });
});

describe('keyring from configuration', () => {
  it('signs with SIGNING_KEY_PEM under a kid derived from the key, so every instance and restart agrees', async () => {
    const pem = pemOf();
    const a = await Keyring.fromPem(pem, undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    const b = await Keyring.fromPem(pem, undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    expect(a.signingKey.kid).toBe(b.signingKey.kid);
    expect(a.rotatable).toBe(false);
    await expect(a.rotate()).rejects.toMatchObject({ kind: 'conflict', code: 'KEYS_FROM_CONFIGURATION' });
  });

  it('keeps publishing previous keys (public or private PEMs) so their tokens still verify', async () => {
    const oldPem = pemOf();
    const old = await Keyring.fromPem(oldPem, undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    const oldToken = await signWith(old);
    const otherPublic = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();

    const current = await Keyring.fromPem(pemOf(), `${oldPem}\n${otherPublic}`, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW });
    expect(current.jwks().keys).toHaveLength(3);
    expect(current.jwks().keys.map((key) => key.kid)).toContain(old.signingKey.kid);
    expect(current.signingKey.kid).not.toBe(old.signingKey.kid);
    await expect(jwtVerify(oldToken, createLocalJWKSet(current.jwks()))).resolves.toBeDefined();
  });

  it('refuses keys that are not RSA of at least 2048 bits', async () => {
    await expect(Keyring.fromPem(pemOf(1024), undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW })).rejects.toThrow(/2048/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(Keyring.fromPem(ec, undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW })).rejects.toThrow(/not an RSA key/);
    await expect(Keyring.fromPem('garbage', undefined, { tokenLifetimeSeconds: LIFETIME, clockSkewSeconds: SKEW })).rejects.toThrow(/SIGNING_KEY_PEM/);
  });
});
