import type { StorageContext } from './storage-context';
import { deleteContent } from './content';

export interface ReaperReport {
  /** Blobs deleted because an interrupted upload or delete left them without a data element. */
  orphanBlobs: number;
  /** Interrupted puts removed from the blob store: partial temp files, incomplete multipart uploads. */
  abandonedUploads: number;
}

/**
 * Finishes what a crash interrupted, in two steps that each wait for `staleAfterMs` of inactivity:
 * the blob store's own leftovers of puts that stopped sending (temp files, incomplete multipart uploads),
 * then orphan blobs (see reapOrphanBlobs). Safe to run on several replicas at once.
 */
export async function runReaper(ctx: StorageContext, staleAfterMs: number): Promise<ReaperReport> {
  const idleSince = new Date(Date.parse(ctx.clock()) - staleAfterMs);
  const abandonedUploads = await ctx.blobs.removeAbandonedUploads(idleSince);
  const orphanBlobs = await reapOrphanBlobs(ctx, staleAfterMs);
  return { orphanBlobs, abandonedUploads };
}

/**
 * A pending upload older than `staleAfterMs` whose blob no data element references is an orphan; its blob
 * is deleted. A blob written to within `staleAfterMs` is left alone however old its record (an upload that
 * takes longer than that is still sending, or has just finished and is being recorded). Referenced blobs
 * are kept. Returns how many blobs it deleted.
 */
export async function reapOrphanBlobs(ctx: StorageContext, staleAfterMs: number, batchSize = 100): Promise<number> {
  const cutoff = new Date(Date.parse(ctx.clock()) - staleAfterMs);
  let deleted = 0;
  for (;;) {
    const stale = await ctx.store.pendingUploads.listStartedBefore(cutoff.toISOString(), batchSize);
    let settled = 0;
    for (const upload of stale) {
      const activity = await ctx.blobs.lastActivity(upload.blobStoragePath);
      if (activity !== null && activity >= cutoff) continue;
      const instance = await ctx.store.instances.get(upload.instanceGuid);
      const referenced = instance?.data.some((element) => element.blobStoragePath === upload.blobStoragePath) ?? false;
      if (!referenced) {
        await deleteContent(ctx, upload.blobStoragePath);
        deleted++;
      }
      await ctx.store.pendingUploads.remove(upload.dataElementId);
      settled++;
    }
    // A full batch of uploads still in progress would come back unchanged: stop rather than spin.
    if (stale.length < batchSize || settled === 0) return deleted;
  }
}
