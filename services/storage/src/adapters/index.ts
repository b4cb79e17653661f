import { join } from 'node:path';
import type { StorageConfig } from '../config';
import type { BlobStore } from '../domain/ports/blob-store';
import { BLOBS_FOLDER, FilesystemBlobStore } from './blobs/filesystem-blob-store';
import { S3BlobStore } from './blobs/s3-blob-store';
import type { MetadataStore } from '../domain/ports/metadata-store';
import { MongoMetadataStore } from './metadata/mongo-metadata-store';
import { SqliteMetadataStore } from './metadata/sqlite/sqlite-metadata-store';
import type { ScanPolicy } from '../domain/scanning';
import { ClamdScanner } from './scanner/clamd-scanner';

/** Picks the production adapters when they are configured, the embedded ones (SQLite, filesystem) otherwise. */
export function createMetadataStore(config: StorageConfig): MetadataStore {
  return config.MONGODB_URL
    ? new MongoMetadataStore(config.MONGODB_URL, config.MONGODB_DATABASE, {}, { sequenceLeaseMs: config.SEQUENCE_LEASE_MS })
    : new SqliteMetadataStore(config.DATA_DIR, { legacyJournalDirectory: join(config.DATA_DIR, 'metadata') });
}

export function createBlobStore(config: StorageConfig): BlobStore {
  if (!config.S3_ENDPOINT && !config.S3_BUCKET) return new FilesystemBlobStore(join(config.DATA_DIR, BLOBS_FOLDER));
  return new S3BlobStore({
    bucket: config.S3_BUCKET ?? 'forms-data',
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ENDPOINT && { endpoint: config.S3_ENDPOINT }),
    ...(config.S3_ACCESS_KEY_ID &&
      config.S3_SECRET_ACCESS_KEY && {
        credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
      }),
  });
}

/** Malware scanning as configured: off without CLAMD_HOST, clamd over TCP with it. */
export function createScanPolicy(config: StorageConfig): ScanPolicy {
  return {
    ...(config.CLAMD_HOST && {
      scanner: new ClamdScanner({
        host: config.CLAMD_HOST,
        port: config.CLAMD_PORT,
        timeoutMs: config.CLAMD_TIMEOUT_MS,
        maxStreamBytes: config.CLAMD_STREAM_MAX_MB * 1024 * 1024,
      }),
    }),
    scanAllUploads: config.SCAN_ALL_UPLOADS,
    onScannerFailure: config.SCAN_ON_SCANNER_FAILURE,
    infectedBlobs: config.SCAN_INFECTED_BLOBS,
    pendingServedToOrg: config.SCAN_PENDING_SERVED_TO_ORG,
    verdictWaitMs: config.SCAN_VERDICT_WAIT_MS,
    verdictWaitMaxBytes: config.SCAN_VERDICT_WAIT_MAX_MB * 1024 * 1024,
    retry: { initialMs: config.SCAN_RETRY_INITIAL_SECONDS * 1000, maxMs: config.SCAN_RETRY_MAX_SECONDS * 1000 },
  };
}

export type { BlobStore, MetadataStore };
