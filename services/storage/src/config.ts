import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@forms/service-kit';

/**
 * Everything the storage service reads from its environment. With nothing set it runs embedded:
 * metadata and blobs in DATA_DIR. MONGODB_URL and S3_ENDPOINT/S3_BUCKET switch to the production stores.
 */
export const StorageConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 5101, minimum: 0, maximum: 65535 }),
  PUBLIC_URL: Type.Optional(Type.String({ description: 'Public base URL, e.g. https://storage.example.no' })),
  LOG_LEVEL: Type.String({ default: 'info' }),
  DATA_DIR: Type.String({ default: '.data/storage' }),
  MONGODB_URL: Type.Optional(Type.String()),
  MONGODB_DATABASE: Type.String({ default: 'storage' }),
  S3_ENDPOINT: Type.Optional(Type.String()),
  S3_BUCKET: Type.Optional(Type.String()),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String()),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String()),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: true }),
  JWKS_URL: Type.String({ default: 'http://127.0.0.1:5100/.well-known/jwks.json' }),
  TOKEN_ISSUER: Type.String({ default: 'http://127.0.0.1:5100' }),
  TOKEN_AUDIENCE: Type.Optional(Type.String()),
  /** Longest token lifetime (exp - iat) accepted: the token service's TOKEN_LIFETIME_SECONDS cap. */
  TOKEN_MAX_LIFETIME_SECONDS: Type.Integer({ default: 86_400, minimum: 60 }),
  /** Shortest time between two JWKS fetches caused by tokens with an unknown kid (a new key's first token refetches at once). */
  JWKS_REFETCH_INTERVAL_MS: Type.Integer({ default: 5_000, minimum: 0 }),
  MAX_DATA_ELEMENT_MB: Type.Integer({ default: 1024, minimum: 1 }),
  MAX_JSON_BODY_KB: Type.Integer({ default: 1024, minimum: 1 }),
  QUERY_DEFAULT_SIZE: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
  REAPER_INTERVAL_SECONDS: Type.Integer({ default: 60, minimum: 0, description: '0 disables the reaper' }),
  REAPER_STALE_AFTER_SECONDS: Type.Integer({
    default: 600,
    minimum: 1,
    description: 'how long an upload must have sent nothing before the reaper treats it as abandoned',
  }),
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
  SHUTDOWN_GRACE_SECONDS: Type.Integer({ default: 10, minimum: 0 }),
});
export type StorageConfig = Static<typeof StorageConfigSchema>;

export const loadStorageConfig = (env?: Record<string, string | undefined>): StorageConfig => loadConfig(StorageConfigSchema, env);

export const API_PREFIX = '/storage/api/v1';
