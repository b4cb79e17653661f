import { join } from 'node:path';
import type { StorageConfig } from '../config';
import type { BlobStore } from '../domain/ports/blob-store';
import { FilesystemBlobStore } from './blobs/filesystem-blob-store';
import { S3BlobStore } from './blobs/s3-blob-store';
import type { MetadataStore } from '../domain/ports/metadata-store';
import { MongoMetadataStore } from './metadata/mongo-metadata-store';
import { SqliteMetadataStore } from './metadata/sqlite/sqlite-metadata-store';

/** Picks the production adapters when they are configured, the embedded ones (SQLite, filesystem) otherwise. */
export function createMetadataStore(config: StorageConfig): MetadataStore {
  return config.MONGODB_URL
    ? new MongoMetadataStore(config.MONGODB_URL, config.MONGODB_DATABASE)
    : new SqliteMetadataStore(config.DATA_DIR, { legacyJournalDirectory: join(config.DATA_DIR, 'metadata') });
}

export function createBlobStore(config: StorageConfig): BlobStore {
  if (!config.S3_ENDPOINT && !config.S3_BUCKET) return new FilesystemBlobStore(join(config.DATA_DIR, 'blobs'));
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

export type { BlobStore, MetadataStore };
