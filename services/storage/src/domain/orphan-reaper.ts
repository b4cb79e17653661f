import type { StorageContext } from './storage-context';

/**
 * Finishes what a crash interrupted: a pending upload older than `staleAfterMs` whose blob no data
 * element references is an orphan; its blob is deleted. Referenced blobs are kept. Returns how many
 * blobs it deleted.
 */
export async function reapOrphanBlobs(ctx: StorageContext, staleAfterMs: number, batchSize = 100): Promise<number> {
  const cutoff = new Date(Date.parse(ctx.clock()) - staleAfterMs).toISOString();
  let deleted = 0;
  for (;;) {
    const stale = await ctx.store.pendingUploads.listStartedBefore(cutoff, batchSize);
    for (const upload of stale) {
      const instance = await ctx.store.instances.get(upload.instanceGuid);
      const referenced = instance?.data.some((element) => element.blobStoragePath === upload.blobStoragePath) ?? false;
      if (!referenced) {
        await ctx.blobs.delete(upload.blobStoragePath);
        deleted++;
      }
      await ctx.store.pendingUploads.remove(upload.dataElementId);
    }
    if (stale.length < batchSize) return deleted;
  }
}
