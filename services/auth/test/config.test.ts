import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuthConfig } from '../src/config';

describe('loadAuthConfig', () => {
  it('runs embedded with nothing set, on the address the storage service expects of the token service', () => {
    const config = loadAuthConfig({});
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 5100,
      ISSUER: 'http://127.0.0.1:5100',
      AUDIENCE: 'forms-platform',
      DATA_DIR: '.data/auth',
      TOKEN_LIFETIME_SECONDS: 1800,
      CLOCK_SKEW_SECONDS: 30,
      TEST_TOKENS_ENABLED: false,
      RATE_LIMIT_MAX: 60,
      RATE_LIMIT_WINDOW_SECONDS: 60,
    });
    expect(config.MONGODB_URL).toBeUndefined();
    expect(config.ADMIN_API_KEY).toBeUndefined();
    expect(config.signingKeyPem).toBeUndefined();
  });

  it('refuses test tokens in production', () => {
    expect(() => loadAuthConfig({ TEST_TOKENS_ENABLED: 'true', NODE_ENV: 'production' })).toThrow(/TEST_TOKENS_ENABLED/);
    // Any spelling of production counts.
    for (const nodeEnv of ['Production', 'PRODUCTION', 'prod', ' Prod ']) {
      expect(() => loadAuthConfig({ TEST_TOKENS_ENABLED: 'true', NODE_ENV: nodeEnv })).toThrow(/TEST_TOKENS_ENABLED/);
    }
    expect(() => loadAuthConfig({ TEST_TOKENS_ENABLED: 'true', PRODUCTION: 'true' })).toThrow(/TEST_TOKENS_ENABLED/);
    expect(loadAuthConfig({ TEST_TOKENS_ENABLED: 'true', NODE_ENV: 'development' }).TEST_TOKENS_ENABLED).toBe(true);
    expect(loadAuthConfig({ NODE_ENV: 'production' }).TEST_TOKENS_ENABLED).toBe(false);
  });

  it('refuses malformed values, naming them', () => {
    expect(() => loadAuthConfig({ ISSUER: 'not a url' })).toThrow(/ISSUER/);
    expect(() => loadAuthConfig({ ISSUER: 'ftp://auth.example' })).toThrow(/ISSUER/);
    expect(() => loadAuthConfig({ TOKEN_LIFETIME_SECONDS: '10' })).toThrow(/TOKEN_LIFETIME_SECONDS/);
    expect(() => loadAuthConfig({ ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
    expect(() => loadAuthConfig({ PORT: 'http' })).toThrow(/PORT/);
  });

  it('drops a trailing slash from the issuer, so `iss` and discovery URLs are exact', () => {
    expect(loadAuthConfig({ ISSUER: 'https://auth.example.no/' }).ISSUER).toBe('https://auth.example.no');
  });

  it('reads the signing key from SIGNING_KEY_PEM (one-line with \\n escapes) or from a file, not both', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().trim();
    expect(loadAuthConfig({ SIGNING_KEY_PEM: pem.replace(/\n/g, '\\n') }).signingKeyPem).toBe(pem);
    const file = join(mkdtempSync(join(tmpdir(), 'auth-config-')), 'key.pem');
    writeFileSync(file, `${pem}\n`);
    expect(loadAuthConfig({ SIGNING_KEY_PEM_FILE: file }).signingKeyPem).toBe(pem);
    expect(() => loadAuthConfig({ SIGNING_KEY_PEM: pem, SIGNING_KEY_PEM_FILE: file })).toThrow(/not both/);
  });
});

describe('loadAuthConfig with empty variables', () => {
  it('treats them as unset', () => {
    const config = loadAuthConfig({ ADMIN_API_KEY: '', MONGODB_URL: '', SIGNING_KEY_PEM: '' });
    expect(config.ADMIN_API_KEY).toBeUndefined();
    expect(config.MONGODB_URL).toBeUndefined();
    expect(config.signingKeyPem).toBeUndefined();
  });
});

describe('loadAuthConfig for one node or several replicas', () => {
  const mongo = { MONGODB_URL: 'mongodb://db.example:27017' };
  const key = { SIGNING_KEY_PEM: '-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----' };

  it('runs embedded with nothing set, and on MongoDB with a given key as one replica or several', () => {
    expect(loadAuthConfig({}).REPLICAS).toBe(1);
    expect(() => loadAuthConfig({ ...mongo, ...key })).not.toThrow();
    expect(loadAuthConfig({ ...mongo, ...key, REPLICAS: '3' }).REPLICAS).toBe(3);
  });

  it('refuses MongoDB with a key generated into DATA_DIR unless SINGLE_NODE=true says one process runs', () => {
    expect(() => loadAuthConfig(mongo)).toThrow(/MONGODB_URL is set but no SIGNING_KEY_PEM\(_FILE\).*SINGLE_NODE=true/);
    expect(() => loadAuthConfig({ ...mongo, SINGLE_NODE: 'true' })).not.toThrow();
  });

  it('refuses several replicas without MongoDB or without a given key, or with SINGLE_NODE=true', () => {
    expect(() => loadAuthConfig({ REPLICAS: '2' })).toThrow(/REPLICAS=2 needs MONGODB_URL .*SIGNING_KEY_PEM or SIGNING_KEY_PEM_FILE/);
    expect(() => loadAuthConfig({ ...key, REPLICAS: '2' })).toThrow(/REPLICAS=2 needs MONGODB_URL/);
    expect(() => loadAuthConfig({ ...mongo, ...key, REPLICAS: '2', SINGLE_NODE: 'true' })).toThrow(/SINGLE_NODE=true contradicts REPLICAS=2/);
  });
});
