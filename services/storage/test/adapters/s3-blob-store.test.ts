import { randomBytes } from 'node:crypto';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/adapters/blobs/s3-blob-store';
import { describeBlobStoreLeftoversContract } from '../contract/blob-store-leftovers.contract';
import { describeBlobStoreContract } from '../contract/blob-store.contract';

/** s3rver (started by jest globalSetup) accepts these fixed credentials. */
function s3rverOptions(bucket: string): S3BlobStoreOptions {
  const endpoint = process.env.TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('TEST_S3_ENDPOINT is not set; is the jest globalSetup running?');
  return {
    endpoint,
    region: 'us-east-1',
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  };
}

/** Fresh per test file, so runs never see each other's objects. */
const randomBucketName = (): string => `blob-store-test-${randomBytes(6).toString('hex')}`;

// With a real S3 behind TEST_S3_ENDPOINT the atomicity check could run too; s3rver writes objects in place.
describeBlobStoreContract('S3BlobStore', () => new S3BlobStore(s3rverOptions(randomBucketName())), { serverHasAtomicConcurrentPuts: false });
describeBlobStoreLeftoversContract('S3BlobStore', () => {
  const bucket = randomBucketName();
  return { writer: new S3BlobStore(s3rverOptions(bucket)), other: new S3BlobStore(s3rverOptions(bucket)) };
});

describe('S3BlobStore', () => {
  it('init creates a missing bucket, after which ping resolves', async () => {
    const store = new S3BlobStore(s3rverOptions(randomBucketName()));
    try {
      await expect(store.ping()).rejects.toThrow();
      await store.init();
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
