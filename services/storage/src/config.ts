import { Type, type Static } from '@sinclair/typebox';
import { TokenVerificationConfig } from '@forms/auth-plugin';
import { loadConfig, ServerConfig } from '@forms/service-kit';

/**
 * Everything the storage service reads from its environment. With nothing set it runs embedded, as one
 * node: metadata and blobs in DATA_DIR. MONGODB_URL and S3_ENDPOINT/S3_BUCKET switch to the shared stores
 * that several replicas need (README, "Deployment"); start-up refuses a mix that only one replica can use.
 */
export const StorageConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 5101, minimum: 0, maximum: 65535 }),
  PUBLIC_URL: Type.Optional(Type.String({ description: 'Public base URL, e.g. https://storage.example.no' })),
  REPLICAS: Type.Integer({
    default: 1,
    minimum: 1,
    description: 'How many storage processes run on these stores; more than 1 needs MONGODB_URL, S3 and PUBLIC_URL',
  }),
  SINGLE_NODE: Type.Boolean({
    default: false,
    description: 'Exactly one storage process runs: allows MongoDB with blobs on local disk, or S3 with metadata in local SQLite',
  }),
  SEQUENCE_LEASE_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    description: 'MongoDB: how long a write may hold its place in the commit order before readers pass it as abandoned',
  }),
  CLOCK_OFFSET_MS: Type.Integer({ default: 0, description: 'Tests only: shifts this process clock (refused in production)' }),
  NODE_ENV: Type.Optional(Type.String()),
  PRODUCTION: Type.Boolean({ default: false }),
  DATA_DIR: Type.String({ default: '.data/storage' }),
  MONGODB_URL: Type.Optional(Type.String()),
  MONGODB_DATABASE: Type.String({ default: 'storage' }),
  S3_ENDPOINT: Type.Optional(Type.String()),
  S3_BUCKET: Type.Optional(Type.String()),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String()),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String()),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: true }),
  ...TokenVerificationConfig,
  MAX_DATA_ELEMENT_MB: Type.Integer({ default: 1024, minimum: 1 }),
  INLINE_CONTENT_MAX_KB: Type.Integer({
    default: 64,
    minimum: 0,
    maximum: 1024,
    description: 'Content up to this size is kept in the embedded metadata store, in the transaction that records it (ADR 0018); 0: always in the blob store',
  }),
  MAX_JSON_BODY_KB: Type.Integer({ default: 1024, minimum: 1 }),
  MAX_DATA_ELEMENTS_PER_INSTANCE: Type.Integer({
    default: 1000,
    minimum: 1,
    maximum: 10_000,
    description: 'every write of an instance rewrites all of its data elements; more are refused with 409 INSTANCE_DATA_ELEMENT_LIMIT',
  }),
  MAX_INSTANCE_KB: Type.Integer({
    default: 2048,
    minimum: 64,
    maximum: 8192,
    description: "the most an instance's JSON may hold (MongoDB refuses documents from 16 MiB); a change past it is refused with 409 INSTANCE_TOO_LARGE",
  }),
  QUERY_DEFAULT_SIZE: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
  QUERY_PAGE_MAX_KB: Type.Integer({
    default: 4096,
    minimum: 64,
    description: 'a query page ends early once its instances hold this much JSON (next goes on), however many were asked for',
  }),
  REAPER_INTERVAL_SECONDS: Type.Integer({ default: 60, minimum: 0, description: '0 disables the reaper' }),
  REAPER_STALE_AFTER_SECONDS: Type.Integer({
    default: 600,
    minimum: 1,
    description: 'how long an upload must have sent nothing before the reaper treats it as abandoned',
  }),
  HARD_DELETE_RETENTION_SECONDS: Type.Integer({
    default: 7 * 24 * 3600,
    minimum: 0,
    description: 'how long a hard-deleted instance is kept (readable by its org) before the cleanup job removes it with its content',
  }),
  HARD_DELETE_CLEANUP_INTERVAL_SECONDS: Type.Integer({ default: 3600, minimum: 0, description: '0 disables the cleanup job' }),
  CLAMD_HOST: Type.Optional(Type.String({ description: 'ClamAV daemon host; unset: malware scanning is off' })),
  CLAMD_PORT: Type.Integer({ default: 3310, minimum: 1, maximum: 65535 }),
  CLAMD_TIMEOUT_MS: Type.Integer({ default: 30_000, minimum: 100, description: 'connect timeout and longest silence while scanning' }),
  CLAMD_STREAM_MAX_MB: Type.Integer({ default: 100, minimum: 1, description: "clamd's StreamMaxLength; larger scanned uploads are refused" }),
  SCAN_ALL_UPLOADS: Type.Boolean({ default: false, description: 'scan every upload, not only data types with enableFileScan' }),
  SCAN_ON_SCANNER_FAILURE: Type.Union([Type.Literal('pending'), Type.Literal('refuse')], { default: 'pending' }),
  SCAN_INFECTED_BLOBS: Type.Union([Type.Literal('delete'), Type.Literal('quarantine')], { default: 'delete' }),
  SCAN_PENDING_SERVED_TO_ORG: Type.Boolean({ default: false }),
  SCAN_VERDICT_WAIT_MS: Type.Integer({ default: 200, minimum: 0, description: 'longest an upload waits for the verdict before answering Pending' }),
  SCAN_VERDICT_WAIT_MAX_MB: Type.Integer({
    default: 8,
    minimum: 0,
    description: 'only uploads up to this size wait for the verdict; larger ones are answered Pending at once (clamd scans once the stream has ended)',
  }),
  SCAN_RETRY_INITIAL_SECONDS: Type.Integer({ default: 30, minimum: 1 }),
  SCAN_RETRY_MAX_SECONDS: Type.Integer({ default: 3600, minimum: 1 }),
  SCAN_WORKER_INTERVAL_SECONDS: Type.Integer({ default: 10, minimum: 0, description: '0 disables the rescan worker' }),
  ...ServerConfig,
});
export type StorageConfig = Static<typeof StorageConfigSchema>;

/** What storage adds to a new instance beyond its request: the metadata of its at most 50 initial data elements, and more. */
const CREATION_OVERHEAD_KB = 128;

/** Reads and checks the configuration; throws, naming the variables, on anything it would not run with. */
export function loadStorageConfig(env?: Record<string, string | undefined>): StorageConfig {
  const config = loadConfig(StorageConfigSchema, env);
  checkDeployment(config);
  return config;
}

/**
 * Refuses at start-up what would fail later, on the first request that crosses replicas: several replicas
 * need both shared stores (MongoDB for metadata and the commit order, S3 for blobs) and one public URL for
 * links; one store shared and the other local works for a single process only, which the operator must say.
 */
function checkDeployment(config: StorageConfig): void {
  const mongo = config.MONGODB_URL !== undefined && config.MONGODB_URL !== '';
  const s3 = Boolean(config.S3_ENDPOINT || config.S3_BUCKET);
  if (config.REPLICAS > 1) {
    if (config.SINGLE_NODE) throw new Error(`SINGLE_NODE=true contradicts REPLICAS=${config.REPLICAS}`);
    const missing = [
      !mongo && 'MONGODB_URL (the embedded SQLite database in DATA_DIR serves one process)',
      !s3 && 'S3_ENDPOINT or S3_BUCKET (blobs in DATA_DIR are on one node only)',
      !config.PUBLIC_URL && 'PUBLIC_URL (links would name the replica that answered)',
    ].filter(Boolean);
    if (missing.length > 0) throw new Error(`REPLICAS=${config.REPLICAS} needs ${missing.join(', ')}`);
  } else if (mongo !== s3 && !config.SINGLE_NODE) {
    throw new Error(
      mongo
        ? 'MONGODB_URL is set but S3 is not: blobs would stay on this node, where other replicas cannot read them. Set S3_ENDPOINT/S3_BUCKET, or SINGLE_NODE=true if exactly one storage process runs.'
        : 'S3 is set but MONGODB_URL is not: metadata would stay in this node\'s SQLite database, unseen by other replicas. Set MONGODB_URL, or SINGLE_NODE=true if exactly one storage process runs.',
    );
  }
  if (config.PUBLIC_URL !== undefined) {
    try {
      const url = new URL(config.PUBLIC_URL);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new Error(`PUBLIC_URL "${config.PUBLIC_URL}" is not an absolute http(s) URL`);
    }
  }
  // A new instance is checked for its count of data elements only: its size is bounded by its request.
  if (config.MAX_INSTANCE_KB < config.MAX_JSON_BODY_KB + CREATION_OVERHEAD_KB) {
    throw new Error(
      `MAX_INSTANCE_KB (${config.MAX_INSTANCE_KB}) must be at least MAX_JSON_BODY_KB + ${CREATION_OVERHEAD_KB} (${config.MAX_JSON_BODY_KB + CREATION_OVERHEAD_KB}), so that every instance a request may create fits`,
    );
  }
  const production = config.PRODUCTION || /^prod(uction)?$/.test((config.NODE_ENV ?? '').trim().toLowerCase());
  if (config.CLOCK_OFFSET_MS !== 0 && production) throw new Error('CLOCK_OFFSET_MS is for tests and must not be set in production');
}

export const API_PREFIX = '/storage/api/v1';
