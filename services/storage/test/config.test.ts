import { loadStorageConfig } from '../src/config';

/** Start-up refuses what only one replica can run, unless the operator says one runs (README, "Deployment"). */
describe('storage configuration for one node or several replicas', () => {
  const mongo = { MONGODB_URL: 'mongodb://db.example:27017' };
  const s3 = { S3_ENDPOINT: 'https://s3.example', S3_BUCKET: 'forms-data' };

  it('runs embedded with no configuration at all, as one node', () => {
    const config = loadStorageConfig({});
    expect(config.REPLICAS).toBe(1);
    expect(config.SINGLE_NODE).toBe(false);
    expect(config.MONGODB_URL).toBeUndefined();
  });

  it('runs on MongoDB and S3 as one replica or several (with PUBLIC_URL)', () => {
    expect(() => loadStorageConfig({ ...mongo, ...s3 })).not.toThrow();
    expect(loadStorageConfig({ ...mongo, ...s3, REPLICAS: '3', PUBLIC_URL: 'https://storage.example' }).REPLICAS).toBe(3);
  });

  it.each([
    ['MongoDB without S3', mongo, /MONGODB_URL is set but S3 is not.*SINGLE_NODE=true/],
    ['S3 without MongoDB', s3, /S3 is set but MONGODB_URL is not.*SINGLE_NODE=true/],
  ])('refuses %s unless SINGLE_NODE=true says one process runs', (_name, env, message) => {
    expect(() => loadStorageConfig(env)).toThrow(message);
    expect(() => loadStorageConfig({ ...env, SINGLE_NODE: 'true' })).not.toThrow();
  });

  it.each([
    ['the embedded stores', {}, /REPLICAS=2 needs MONGODB_URL .*S3_ENDPOINT or S3_BUCKET .*PUBLIC_URL/],
    ['MongoDB without S3', mongo, /REPLICAS=2 needs S3_ENDPOINT or S3_BUCKET/],
    ['one DATA_DIR shared with S3', s3, /REPLICAS=2 needs MONGODB_URL/],
    ['the shared stores but no PUBLIC_URL', { ...mongo, ...s3 }, /REPLICAS=2 needs PUBLIC_URL/],
    ['SINGLE_NODE=true', { ...mongo, ...s3, PUBLIC_URL: 'https://storage.example', SINGLE_NODE: 'true' }, /SINGLE_NODE=true contradicts REPLICAS=2/],
  ])('refuses several replicas on %s', (_name, env, message) => {
    expect(() => loadStorageConfig({ ...env, REPLICAS: '2' })).toThrow(message);
  });

  it('refuses a PUBLIC_URL that is not an absolute http(s) URL', () => {
    expect(() => loadStorageConfig({ PUBLIC_URL: 'storage.example' })).toThrow(/PUBLIC_URL "storage.example" is not an absolute http\(s\) URL/);
  });

  it('accepts a clock offset for tests only, never in production', () => {
    expect(loadStorageConfig({ CLOCK_OFFSET_MS: '-2000' }).CLOCK_OFFSET_MS).toBe(-2000);
    expect(() => loadStorageConfig({ CLOCK_OFFSET_MS: '-2000', NODE_ENV: 'production' })).toThrow(/CLOCK_OFFSET_MS/);
    expect(() => loadStorageConfig({ CLOCK_OFFSET_MS: '5', PRODUCTION: 'true' })).toThrow(/CLOCK_OFFSET_MS/);
  });

  it('refuses an instance size limit that an instance created by one request could pass', () => {
    expect(loadStorageConfig({}).MAX_INSTANCE_KB).toBe(2048);
    expect(() => loadStorageConfig({ MAX_JSON_BODY_KB: '4096' })).toThrow(/MAX_INSTANCE_KB \(2048\) must be at least MAX_JSON_BODY_KB \+ 128 \(4224\)/);
    expect(loadStorageConfig({ MAX_JSON_BODY_KB: '4096', MAX_INSTANCE_KB: '4224' }).MAX_INSTANCE_KB).toBe(4224);
    expect(() => loadStorageConfig({ MAX_INSTANCE_KB: '9000' })).toThrow(/MAX_INSTANCE_KB/);
  });
});
