import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Instance } from '@forms/contracts';
import Database from 'better-sqlite3';
import type { StorageConfig } from '../../src/config';
import { METADATA_DATABASE_FILE } from '../../src/adapters/metadata/sqlite/sqlite-metadata-store';

/** Where the storage service keeps an instance's blobs: `<org>/<app>/<instanceGuid>/`. */
export const blobPrefixOf = (instance: Pick<Instance, 'appId' | 'id'>): string => `${instance.appId}/${instance.id.split('/')[1]}/`;

/**
 * Every object stored under `prefix`, read from the backends themselves (the bucket listing, or the files in the
 * blob folder, temp files included; and small content kept in the embedded metadata database, ADR 0018), not
 * from the instances: an orphan is precisely content nothing points to.
 */
export async function listStoredBlobs(config: StorageConfig, prefix: string): Promise<string[]> {
  const inline = config.MONGODB_URL ? [] : listInlineContents(config, prefix);
  const blobs = config.S3_ENDPOINT ? await listBucket(config, prefix) : await listBlobFiles(config, prefix);
  return [...inline, ...blobs].sort();
}

export function listInlineContents(config: StorageConfig, prefix: string): string[] {
  const db = new Database(join(config.DATA_DIR, METADATA_DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string, string], string>('SELECT key FROM inline_contents WHERE substr(key, 1, length(?)) = ?').pluck().all(prefix, prefix);
  } finally {
    db.close();
  }
}

export async function listBlobFiles(config: StorageConfig, prefix: string): Promise<string[]> {
  const root = join(config.DATA_DIR, 'blobs');
  const folder = join(root, prefix);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** Runs `use` with a client of the storage service's bucket. */
async function withBucket<T>(config: StorageConfig, use: (client: S3Client) => Promise<T>): Promise<T> {
  const client = new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID ?? '', secretAccessKey: config.S3_SECRET_ACCESS_KEY ?? '' },
  });
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

function listBucket(config: StorageConfig, prefix: string): Promise<string[]> {
  return withBucket(config, async (client) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  });
}

/** The keys of S3 multipart uploads begun and neither completed nor aborted; none without S3. */
export async function listUnfinishedUploads(config: StorageConfig): Promise<string[]> {
  if (!config.S3_ENDPOINT) return [];
  return withBucket(config, async (client) =>
    ((await client.send(new ListMultipartUploadsCommand({ Bucket: config.S3_BUCKET }))).Uploads ?? []).map((upload) => upload.Key ?? ''),
  );
}
