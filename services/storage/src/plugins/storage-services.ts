import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '../domain/ports/blob-store';
import type { MetadataStore } from '../domain/ports/metadata-store';
import { ApplicationService } from '../domain/application-service';
import type { Clock } from '../domain/clock';
import { DataService, type DataLimits } from '../domain/data-service';
import { DataElementMetadata } from '../domain/data-element-metadata';
import { InstanceAudit } from '../domain/instance-audit';
import { InstanceCreation } from '../domain/instance-creation';
import { InstanceService } from '../domain/instance-service';
import type { InstanceLimits } from '../domain/instance-limits';
import type { StorageContext } from '../domain/storage-context';
import { runReaper } from '../domain/orphan-reaper';
import { purgeHardDeleted } from '../domain/hard-delete-cleanup';
import { periodic } from './periodic';
import { Scanning, type ScanPolicy } from '../domain/scanning';
import { scanWorker } from './scan-worker';

export interface StorageServices {
  context: StorageContext;
  applications: ApplicationService;
  instances: InstanceService;
  creation: InstanceCreation;
  data: DataService;
  elements: DataElementMetadata;
  audit: InstanceAudit;
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
  instanceLimits: InstanceLimits;
  reaper: { intervalMs: number; staleAfterMs: number };
  /** Removal of hard-deleted instances after their retention; intervalMs 0: never. */
  hardDeleteCleanup: { intervalMs: number; retentionMs: number };
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
    const instances = new InstanceService(context, options.instanceLimits);
    const scanning = new Scanning(context, options.scanning);
    const data = new DataService(context, instances, options.limits, scanning);
    app.decorate('storage', {
      context,
      applications: new ApplicationService(store, clock),
      instances,
      creation: new InstanceCreation(context, data, (instanceId) => instances.selfLink(instanceId)),
      data,
      elements: new DataElementMetadata(context, instances, data),
      audit: new InstanceAudit(context, instances),
      scanning,
    });
    await app.register(scanWorker, { scanning, intervalMs: options.scanWorkerIntervalMs });

    const cleanup = options.hardDeleteCleanup;
    if (cleanup.intervalMs > 0) {
      await app.register(periodic, {
        name: 'hard-delete cleanup',
        intervalMs: cleanup.intervalMs,
        run: async () => {
          const removed = await purgeHardDeleted(context, instances, cleanup.retentionMs);
          if (removed > 0) app.log.info({ removed }, 'removed hard-deleted instances past their retention');
        },
      });
    }

    let reaper: NodeJS.Timeout | undefined;
    let firstPass: NodeJS.Timeout | undefined;
    if (options.reaper.intervalMs > 0) {
      let running = false;
      const reap = (): void => {
        if (running) return; // a slow pass is never overlapped by the next
        running = true;
        runReaper(context, options.reaper.staleAfterMs)
          .then((report) => {
            if (report.orphanBlobs > 0 || report.abandonedUploads > 0) app.log.info(report, 'reaper removed leftovers of interrupted uploads');
          })
          .catch((err: unknown) => app.log.warn({ err }, 'reaper failed'))
          .finally(() => {
            running = false;
          });
      };
      // Once soon after start (what a crash left is found without waiting a whole period), then periodically.
      app.addHook('onReady', async () => {
        firstPass = setTimeout(reap, 1000).unref();
      });
      reaper = setInterval(reap, options.reaper.intervalMs);
      reaper.unref();
    }
    app.addHook('onClose', async () => {
      clearInterval(reaper);
      clearTimeout(firstPass);
      await Promise.allSettled([store.close(), blobs.close()]);
    });
  },
  { name: 'storage-services' },
);
