import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { oncePerScrape, type ScrapedMetric } from '@forms/service-kit';
import type { MetadataStore } from '../domain/ports/metadata-store';
import type { Clock } from '../domain/clock';

export interface StorageMetricsOptions {
  store: MetadataStore;
  clock: Clock;
}

/**
 * Storage's own figures beside the request metrics (ADR 0023), read at each scrape: the malware scan backlog (a
 * scanner that is down shows here long before anyone asks why their files stay Pending) and, on the embedded
 * store, its group commit and write-ahead log.
 */
export const storageMetrics = fp(
  async (app: FastifyInstance, { store, clock }: StorageMetricsOptions) => {
    // Two figures come from the scan backlog and six from the write figures: each read once per scrape.
    const backlog = oncePerScrape(() => store.scanQueue.backlog());
    const metrics: ScrapedMetric[] = [
      {
        kind: 'gauge',
        name: 'storage_scan_jobs',
        help: 'Data elements waiting for a malware scan verdict in the rescan queue',
        read: async () => (await backlog()).jobs,
      },
      {
        kind: 'gauge',
        name: 'storage_scan_oldest_job_age_seconds',
        help: 'How long the longest-waiting data element has been without a malware scan verdict (0: none waits)',
        read: async () => {
          const { oldestQueued } = await backlog();
          return oldestQueued === null ? 0 : Math.max(0, (Date.parse(clock()) - Date.parse(oldestQueued)) / 1000);
        },
      },
    ];
    if (store.writeFigures) {
      const writeFigures = oncePerScrape(store.writeFigures.bind(store));
      metrics.push(
        { kind: 'counter', name: 'storage_metadata_commits_total', help: 'Transactions the group commit ran (one per batch of writes)', read: () => writeFigures().commits },
        { kind: 'counter', name: 'storage_metadata_writes_total', help: 'Writes committed through the group commit', read: () => writeFigures().writes },
        { kind: 'counter', name: 'storage_metadata_log_syncs_total', help: 'Syncs of the write-ahead log (each makes every commit before it durable)', read: () => writeFigures().logSyncs },
        { kind: 'counter', name: 'storage_metadata_checkpoints_total', help: 'Checkpoints run beside the writer (the log copied into the database)', read: () => writeFigures().checkpoints },
        { kind: 'gauge', name: 'storage_metadata_writes_waiting', help: 'Writes queued for the next group commit', read: () => writeFigures().waiting },
        { kind: 'gauge', name: 'storage_metadata_log_bytes', help: 'Length of the write-ahead log', read: () => writeFigures().logBytes },
      );
    }
    app.addScrapedMetrics(metrics);
  },
  { name: 'storage-metrics' },
);
