import { ScanFailedError } from './ports/malware-scanner';
import type { ScanJob } from './ports/scan-queue';
import { fieldsOf, type Scanning, type ScanFields } from './scanning';
import { recordVerdict } from './scan-verdict';
import type { StorageContext } from './storage-context';
import { readContent } from './content';

export interface RescanReport {
  scanned: number;
  stillPending: number;
  dropped: number;
}

/**
 * Finishes `Pending` elements: rescans the stored content of every due job, records the verdict, and reschedules
 * with backoff when the scanner still fails. Safe on several replicas at once: a verdict is only recorded on the
 * element version it was read from, and scanning the same content twice gives the same verdict.
 */
export async function rescanPending(ctx: StorageContext, scanning: Scanning, batch = 20): Promise<RescanReport> {
  const scanner = scanning.policy.scanner;
  const report: RescanReport = { scanned: 0, stillPending: 0, dropped: 0 };
  if (!scanner) return report;
  for (const job of await ctx.store.scanQueue.listDue(ctx.clock(), batch)) {
    const instance = await ctx.store.instances.get(job.instanceGuid);
    const element = instance?.data.find((d) => d.id === job.dataElementId);
    if (!instance || !element || element.fileScanResult !== 'Pending') {
      // No element yet: its upload may still be recording it, or it failed or crashed; then the job is garbage.
      if (!element && !scanning.isOrphan(job, ctx.clock())) await reschedule(ctx, scanning, job, job.attempts);
      else {
        await ctx.store.scanQueue.remove(job.dataElementId);
        report.dropped++;
      }
      continue;
    }
    const blob = await readContent(ctx, element.blobStoragePath);
    if (!blob) {
      await ctx.store.scanQueue.remove(job.dataElementId);
      report.dropped++;
      continue;
    }
    let fields: ScanFields;
    try {
      fields = fieldsOf(await scanner.scan(blob.body), ctx.clock());
    } catch (error) {
      blob.body.destroy();
      if (!(error instanceof ScanFailedError)) throw error;
      await reschedule(ctx, scanning, job, job.attempts + 1);
      report.stillPending++;
      continue;
    }
    const recorded = await recordVerdict(ctx, job, element.blobStoragePath, fields);
    if (typeof recorded === 'object') {
      await ctx.store.scanQueue.remove(job.dataElementId);
      if (recorded.element.fileScanResult === 'Infected') await scanning.handleInfected(recorded.instance, recorded.element);
    }
    report.scanned++;
  }
  return report;
}

async function reschedule(ctx: StorageContext, scanning: Scanning, job: ScanJob, attempts: number): Promise<void> {
  await ctx.store.scanQueue.put({ ...job, attempts, due: scanning.later(ctx.clock(), Math.max(1, attempts)) });
}
