import type { DataElement, Instance } from '@forms/contracts';
import type { ScanJob } from './ports/scan-queue';
import type { StorageContext } from './storage-context';
import { backOff, changeTime, MAX_WRITE_ATTEMPTS } from './write-retry';


/** What a scan sets on a data element. */
export type ScanFields = Pick<DataElement, 'fileScanResult' | 'fileScanTime' | 'fileScanSignature'>;

/**
 * Records a verdict on the element of `job` if it still holds the scanned content and is still Pending. Returns the
 * updated instance and element; `missing` when the element is not (yet) on the instance; `void` when it was replaced,
 * deleted or already has a verdict (the new content has its own scan), or concurrent writes kept winning.
 */
export async function recordVerdict(
  ctx: StorageContext,
  job: Pick<ScanJob, 'instanceGuid' | 'dataElementId'>,
  scannedPath: string,
  fields: ScanFields,
): Promise<{ instance: Instance; element: DataElement } | 'missing' | 'void'> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    if (attempt > 1) await backOff(attempt - 1);
    const current = await ctx.store.instances.get(job.instanceGuid);
    if (!current) return 'void';
    const draft = structuredClone(current);
    const element = draft.data.find((d) => d.id === job.dataElementId);
    if (!element) return 'missing';
    if (element.blobStoragePath !== scannedPath || element.fileScanResult !== 'Pending') return 'void';
    Object.assign(element, fields);
    draft.version = current.version + 1;
    draft.lastChanged = changeTime(ctx.clock(), current.lastChanged);
    if (await ctx.store.instances.replace(draft, current.version)) return { instance: draft, element };
  }
  return 'void';
}
