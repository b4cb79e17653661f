import { authOptionsFromConfig, authPlugin } from '@forms/auth-plugin';
import { ACCESS_TOKEN_HEADER } from '@forms/contracts';
import { createServer, healthRoutes, serverOptionsFrom, openApi, type LoggerOptions, type TypedFastify } from '@forms/service-kit';
import type { BlobStore } from './domain/ports/blob-store';
import type { MetadataStore } from './domain/ports/metadata-store';
import { API_PREFIX, type StorageConfig } from './config';
import { monotonicClock, type Clock } from './domain/clock';
import { scanSignatures } from './plugins/scan-signatures';
import { storageMetrics } from './plugins/storage-metrics';
import { storageServices } from './plugins/storage-services';
import { createScanPolicy } from './adapters';
import type { ScanPolicy } from './domain/scanning';
import applicationRoutes from './routes/applications';
import dataRoutes from './routes/data';
import dataElementRoutes from './routes/data-elements';
import eventRoutes from './routes/events';
import feedRoutes from './routes/feed';
import instanceRoutes from './routes/instances';
import instanceStateRoutes from './routes/instance-state';

export interface StorageAppOptions {
  config: StorageConfig;
  store: MetadataStore;
  blobs: BlobStore;
  clock?: Clock;
  /** Malware scanning; by default as configured (CLAMD_HOST unset: off). */
  scanning?: ScanPolicy;
  logger?: LoggerOptions | false;
}

export function publicBaseUrl(config: StorageConfig): string {
  return (config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`).replace(/\/$/, '');
}

/** The storage service: the stores, the domain services on them, and the HTTP API under /storage/api/v1. */
export async function buildStorageApp(options: StorageAppOptions): Promise<TypedFastify> {
  const { config, store, blobs } = options;
  const scanning = options.scanning ?? createScanPolicy(config);
  const app = createServer({
    name: 'storage',
    bodyLimit: config.MAX_JSON_BODY_KB * 1024,
    ...serverOptionsFrom(config, options.logger),
  });

  await app.register(openApi, {
    title: 'Platform storage API',
    description: 'Instances, data elements, process state and audit events of form apps.',
    version: '1.0.0',
    routePrefix: '/storage/swagger',
  });
  await app.register(authPlugin, {
    ...authOptionsFromConfig(config),
    // The app services send their own token beside the party's: storage then knows the app acts for the party.
    accessTokenHeader: ACCESS_TOKEN_HEADER,
  });
  await app.register(storageServices, {
    store,
    blobs,
    clock: options.clock ?? monotonicClock(config.CLOCK_OFFSET_MS),
    apiBaseUrl: `${publicBaseUrl(config)}${API_PREFIX}`,
    limits: { maxDataElementBytes: config.MAX_DATA_ELEMENT_MB * 1024 * 1024, inlineContentMaxBytes: config.INLINE_CONTENT_MAX_KB * 1024 },
    instanceLimits: { maxDataElements: config.MAX_DATA_ELEMENTS_PER_INSTANCE, maxDocumentBytes: config.MAX_INSTANCE_KB * 1024 },
    reaper: { intervalMs: config.REAPER_INTERVAL_SECONDS * 1000, staleAfterMs: config.REAPER_STALE_AFTER_SECONDS * 1000 },
    hardDeleteCleanup: {
      intervalMs: config.HARD_DELETE_CLEANUP_INTERVAL_SECONDS * 1000,
      retentionMs: config.HARD_DELETE_RETENTION_SECONDS * 1000,
    },
    scanning,
    scanWorkerIntervalMs: config.SCAN_WORKER_INTERVAL_SECONDS * 1000,
  });
  await app.register(storageMetrics, { store, clock: app.storage.context.clock });
  const scanner = scanning.scanner;
  await app.register(healthRoutes, {
    checks: [
      { name: 'metadata', check: () => store.ping() },
      { name: 'blobs', check: () => blobs.ping() },
      // Scanner outages leave uploads Pending (or refused), reads go on: reported, but storage stays ready.
      ...(scanner ? [{ name: 'malware-scanner', check: () => scanner.ping(), degradedOnly: true }] : []),
    ],
  });
  await app.register(
    async (api) => {
      await api.register(scanSignatures);
      await api.register(applicationRoutes);
      await api.register(instanceRoutes, {
        defaultPageSize: config.QUERY_DEFAULT_SIZE,
        maxPageBytes: config.QUERY_PAGE_MAX_KB * 1024,
        maxDataElementBytes: config.MAX_DATA_ELEMENT_MB * 1024 * 1024,
      });
      await api.register(instanceStateRoutes);
      await api.register(dataRoutes);
      await api.register(dataElementRoutes);
      await api.register(eventRoutes);
      await api.register(feedRoutes);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
