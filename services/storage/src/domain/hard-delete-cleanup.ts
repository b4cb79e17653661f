import type { InstanceService } from './instance-service';
import type { StorageContext } from './storage-context';

/**
 * Altinn's cleanup of hard-deleted instances: an instance marked hard-deleted more than `retentionMs` ago is
 * removed with its content (audit events are kept). Until then the org can still read it (and an operator can
 * still rescue it). The mark's lastChanged is when it was deleted, so the store's own time filter finds the due
 * ones. Safe on several replicas at once: removal is idempotent. Returns how many instances it removed.
 */
export async function purgeHardDeleted(ctx: StorageContext, instances: InstanceService, retentionMs: number, batchSize = 100): Promise<number> {
  const cutoff = new Date(Date.parse(ctx.clock()) - retentionMs).toISOString();
  let removed = 0;
  for (;;) {
    const due = await ctx.store.instances.query({ isHardDeleted: true, lastChanged: { lt: cutoff }, limit: batchSize });
    for (const instance of due) {
      await instances.purge(instance);
      removed++;
    }
    if (due.length < batchSize) return removed;
  }
}
