import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { Scopes } from '@forms/contracts';
import { API, startStorage, type StorageHarness } from '../../../storage/test/support/storage-harness';
import { buildAuthService } from '../../src/app';
import { DataDirLockedError } from '../../src/adapters';
import { loadAuthConfig } from '../../src/config';
import {
  accessTokenOf,
  adminHeaders,
  AUDIENCE,
  clientAssertionForm,
  decodeToken,
  ISSUER,
  signAssertion,
  startAuth,
  startVerifier,
  whoami,
  type AuthHarness,
} from '../support/auth-harness';

const ADMIN = '/authentication/api/v1/admin';
const orgTestToken = async (auth: AuthHarness): Promise<string> =>
  (await auth.app.inject({ method: 'POST', url: '/authentication/api/v1/testtoken', payload: { org: 'nav', orgNumber: '889640782' } })).json().access_token;
const jwksKids = async (auth: AuthHarness): Promise<string[]> =>
  (await auth.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: { kid: string }[] }>().keys.map((key) => key.kid);

describe('signing key rotation', () => {
  let auth: AuthHarness;
  let storage: StorageHarness;

  beforeAll(async () => {
    auth = await startAuth({ listen: true });
    // Two rotations seconds apart: let each new kid refetch the JWKS (by default at most one such refetch per 5 s).
    storage = await startStorage('embedded', {
      JWKS_URL: `${auth.url}/.well-known/jwks.json`,
      TOKEN_ISSUER: ISSUER,
      TOKEN_AUDIENCE: AUDIENCE,
      JWKS_REFETCH_INTERVAL_MS: '0',
    });
  });
  afterAll(async () => {
    await storage.close();
    await auth.close();
  });

  const listApps = (token: string) => storage.app.inject({ method: 'GET', url: `${API}/applications/nav`, headers: { authorization: `Bearer ${token}` } });

  it('keeps tokens signed with the old key valid at the storage service while new tokens carry the new kid', async () => {
    const before = await orgTestToken(auth);
    const oldKid = decodeToken(before).header.kid;
    expect((await listApps(before)).statusCode).toBe(200);

    const rotation = await auth.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: adminHeaders });
    expect(rotation.statusCode).toBe(200);
    const { kid: newKid, retiredKid } = rotation.json<{ kid: string; retiredKid: string }>();
    expect(retiredKid).toBe(oldKid);
    expect(await jwksKids(auth)).toEqual([oldKid, newKid]);

    const after = await orgTestToken(auth);
    expect(decodeToken(after).header.kid).toBe(newKid);
    // The storage service learns the new key on first sight of its kid, and still honours the old one.
    expect((await listApps(after)).statusCode).toBe(200);
    expect((await listApps(before)).statusCode).toBe(200);

    // So does a verifier that never saw the old key before the rotation (it must come from the JWKS).
    const fresh = await startVerifier(auth.url);
    try {
      expect((await whoami(fresh, before)).statusCode).toBe(200);
      expect((await whoami(fresh, after)).statusCode).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('signs client-credential tokens with the new key too', async () => {
    const client = await auth.registerKeyClient({ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
    const kidBefore = decodeToken(accessTokenOf(await auth.token(clientAssertionForm(await signAssertion(client))))).header.kid;
    const { kid } = (await auth.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: adminHeaders })).json<{ kid: string }>();
    const token = accessTokenOf(await auth.token(clientAssertionForm(await signAssertion(client))));
    expect(decodeToken(token).header.kid).toBe(kid);
    expect(kid).not.toBe(kidBefore);
    expect((await listApps(token)).statusCode).toBe(200);
  });
});

describe('generated signing key persistence', () => {
  it('keeps the same key (kid) across a restart on the same DATA_DIR, and the rotated one after rotation', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-restart-'));
    try {
      const first = await startAuth({ dataDir, listen: true });
      const token = await orgTestToken(first);
      const kid = decodeToken(token).header.kid;
      await first.close();

      const second = await startAuth({ dataDir, listen: true });
      expect(await jwksKids(second)).toEqual([kid]);
      expect(decodeToken(await orgTestToken(second)).header.kid).toBe(kid);
      // A token from before the restart verifies against the restarted service's JWKS.
      const verifier = await startVerifier(second.url);
      expect((await whoami(verifier, token)).statusCode).toBe(200);
      await verifier.close();
      const { kid: rotatedKid } = (await second.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: adminHeaders })).json<{ kid: string }>();
      await second.close();

      const third = await startAuth({ dataDir });
      expect(decodeToken(await orgTestToken(third)).header.kid).toBe(rotatedKid);
      expect(await jwksKids(third)).toEqual([kid, rotatedKid]);
      await third.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('locks DATA_DIR: a second service (or the CLI) cannot open it while the first runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-lock-'));
    try {
      const first = await startAuth({ dataDir });
      await expect(startAuth({ dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
      await first.close();
      const second = await startAuth({ dataDir });
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('signing key from configuration, several instances on MongoDB', () => {
  const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const mongoUrl = process.env.TEST_MONGODB_URL as string;
  const database = `auth_instances_${Date.now()}`;

  afterAll(async () => {
    const client = new MongoClient(mongoUrl);
    await client.db(database).dropDatabase();
    await client.close();
  });

  async function instance(env: Record<string, string>): Promise<AuthHarness> {
    return startAuth({ listen: true, env: { MONGODB_URL: mongoUrl, MONGODB_DATABASE: database, ...env } });
  }

  it('shares the kid, the clients and replay protection between instances; rotation is by configuration', async () => {
    const key = pem();
    const a = await instance({ SIGNING_KEY_PEM: key });
    const b = await instance({ SIGNING_KEY_PEM: key });
    try {
      expect(await jwksKids(a)).toEqual(await jwksKids(b));
      const client = await a.registerKeyClient({ kind: 'org', org: 'nav', orgNumber: '889640782', scopes: [Scopes.serviceOwnerRead] });
      const assertion = await signAssertion(client);
      const token = accessTokenOf(await b.token(clientAssertionForm(assertion)));
      // The same assertion replayed at the other instance is refused: the jti is in the shared store.
      const replay = await a.token(clientAssertionForm(assertion));
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error_description).toMatch(/used before/);

      const verifier = await startVerifier(a.url);
      expect((await whoami(verifier, token)).statusCode).toBe(200);
      await verifier.close();

      const rotate = await a.app.inject({ method: 'POST', url: `${ADMIN}/keys/rotate`, headers: adminHeaders });
      expect(rotate.statusCode).toBe(409);
      expect(rotate.json()).toMatchObject({ code: 'KEYS_FROM_CONFIGURATION' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps verifying tokens of a previous key listed in PREVIOUS_SIGNING_KEYS_PEM', async () => {
    const oldKey = pem();
    const old = await instance({ SIGNING_KEY_PEM: oldKey });
    const oldToken = await orgTestToken(old);
    await old.close();

    const current = await instance({ SIGNING_KEY_PEM: pem(), PREVIOUS_SIGNING_KEYS_PEM: oldKey.replace(/\n/g, '\\n') });
    try {
      expect(await jwksKids(current)).toContain(decodeToken(oldToken).header.kid);
      expect(decodeToken(await orgTestToken(current)).header.kid).not.toBe(decodeToken(oldToken).header.kid);
      const verifier = await startVerifier(current.url);
      expect((await whoami(verifier, oldToken)).statusCode).toBe(200);
      await verifier.close();
    } finally {
      await current.close();
    }
  });

  it('needs no DATA_DIR lock when nothing lives there', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-nolock-'));
    const config = loadAuthConfig({ DATA_DIR: dataDir, MONGODB_URL: mongoUrl, MONGODB_DATABASE: database, SIGNING_KEY_PEM: pem() });
    const a = await buildAuthService({ config, logger: false });
    const b = buildAuthService({ config, logger: false });
    await expect(b).resolves.toBeDefined();
    await a.close();
    await (await b).close();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
