import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { rescanPending } from '../domain/scan-worker';
import type { Scanning } from '../domain/scanning';
import { periodic } from './periodic';

export interface ScanWorkerOptions {
  scanning: Scanning;
  intervalMs: number;
}

/**
 * Says at start-up whether uploads are scanned, and runs the rescan worker that finishes Pending elements
 * (scanner down or timing out, or a restart mid-scan) with backoff. One pass at a time; stops on close.
 */
export const scanWorker = fp(
  async function scanWorker(app: FastifyInstance, { scanning, intervalMs }: ScanWorkerOptions) {
    const scanner = scanning.policy.scanner;
    if (!scanner) {
      app.log.info('malware scanning is off (CLAMD_HOST is not set): data elements are stored as fileScanResult NotApplicable');
      return;
    }
    app.log.info(
      { scanner: scanner.name, scanAllUploads: scanning.policy.scanAllUploads, onScannerFailure: scanning.policy.onScannerFailure },
      `malware scanning with ${scanner.name}`,
    );
    app.addHook('onClose', async () => scanning.settle());
    if (intervalMs <= 0) return;
    await app.register(periodic, {
      name: 'rescan of pending data elements',
      intervalMs,
      run: async () => {
        const report = await rescanPending(app.storage.context, scanning);
        if (report.scanned + report.stillPending + report.dropped > 0) app.log.info(report, 'rescanned pending data elements');
      },
    });
  },
  { name: 'scan-worker' },
);
