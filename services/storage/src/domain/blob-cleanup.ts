import { timeOrderedUuid, type Instance } from '@forms/contracts';
import type { StorageContext } from './storage-context';
import { deleteContent } from './content';

/**
 * Deletes blobs in a way that survives a crash: each blob is first journalled as a pending upload
 * (which the reaper treats as garbage once no data element points at it), then `beforeDelete` runs
 * (typically removing the metadata that referenced the blobs), then the blobs and journal entries go.
 */
export async function removeBlobsDurably(
  ctx: StorageContext,
  instance: Pick<Instance, 'id'>,
  blobPaths: string[],
  beforeDelete: () => Promise<void>,
): Promise<void> {
  const instanceGuid = instance.id.split('/')[1] ?? instance.id;
  const started = ctx.clock();
  const journal = blobPaths.map((blobStoragePath) => ({ dataElementId: timeOrderedUuid(), instanceGuid, blobStoragePath, started }));
  for (const entry of journal) await ctx.store.pendingUploads.insert(entry);
  try {
    await beforeDelete();
  } catch (error) {
    // Nothing was deleted: the blobs are still referenced, so drop the journal entries again.
    for (const entry of journal) await ctx.store.pendingUploads.remove(entry.dataElementId);
    throw error;
  }
  for (const entry of journal) {
    await deleteContent(ctx, entry.blobStoragePath);
    await ctx.store.pendingUploads.remove(entry.dataElementId);
  }
}
