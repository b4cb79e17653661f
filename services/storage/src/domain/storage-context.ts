import type { Clock } from './clock';
import type { BlobStore } from './ports/blob-store';
import type { MetadataStore } from './ports/metadata-store';

/** What the storage domain services work on: the two stores, a clock and where the API is published. */
export interface StorageContext {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  /** Base URL of the storage API, for self links, e.g. `https://storage.example.no/storage/api/v1`. */
  apiBaseUrl: string;
}
