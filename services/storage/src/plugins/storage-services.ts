import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '../domain/ports/blob-store';
import type { MetadataStore } from '../domain/ports/metadata-store';
import { ApplicationService } from '../domain/application-service';
import type { Clock } from '../domain/clock';
import { DataService, type DataLimits } from '../domain/data-service';
import { InstanceCreation } from '../domain/instance-creation';
import { InstanceService } from '../domain/instance-service';
import type { StorageContext } from '../domain/storage-context';
import { reapOrphanBlobs } from '../domain/orphan-reaper';
import { Scanning, type ScanPolicy } from '../domain/scanning';
import { scanWorker } from './scan-worker';

export interface StorageServices {
  context: StorageContext;
  applications: ApplicationService;
  instances: InstanceService;
  creation: InstanceCreation;
  data: DataService;
  scanning: Scanning;
}

declare module 'fastify' {
  interface FastifyInstance {
    storage: StorageServices;
  }
}

export interface StorageServicesOptions {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  apiBaseUrl: string;
  limits: DataLimits;
  reaper: { intervalMs: number; staleAfterMs: number };
  scanning: ScanPolicy;
  /** How often the rescan worker looks for due Pending elements; 0: never. */
  scanWorkerIntervalMs: number;
}

/** Opens the stores, builds the domain services on them and closes everything on shutdown. */
export const storageServices = fp(
  async function storageServices(app: FastifyInstance, options: StorageServicesOptions) {
    const { store, blobs, clock, apiBaseUrl } = options;
    await store.init((level, message, details) => app.log[level](details ?? {}, message));
    await blobs.init();
    const context: StorageContext = { store, blobs, clock, apiBaseUrl };
    const instances = new InstanceService(context);
    const scanning = new Scanning(context, options.scanning);
    const data = new DataService(context, instances, options.limits, scanning);
    app.decorate('storage', {
      context,
      applications: new ApplicationService(store, clock),
      instances,
      creation: new InstanceCreation(context, data, (instanceId) => instances.selfLink(instanceId)),
      data,
      scanning,
    });
    await app.register(scanWorker, { scanning, intervalMs: options.scanWorkerIntervalMs });

    let reaper: NodeJS.Timeout | undefined;
    if (options.reaper.intervalMs > 0) {
      reaper = setInterval(() => {
        reapOrphanBlobs(context, options.reaper.staleAfterMs)
          .then((deleted) => deleted > 0 && app.log.info({ deleted }, 'deleted orphan blobs'))
          .catch((err: unknown) => app.log.warn({ err }, 'orphan reaper failed'));
      }, options.reaper.intervalMs);
      reaper.unref();
    }
    app.addHook('onClose', async () => {
      clearInterval(reaper);
      await Promise.allSettled([store.close(), blobs.close()]);
    });
  },
  { name: 'storage-services' },
);
