import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../../src/domain/ports/metadata-store';
import type { ScanJob } from '../../src/domain/ports/scan-queue';
import { at } from './test-data';

const job = (due: string, overrides: Partial<ScanJob> = {}): ScanJob => ({
  dataElementId: randomUUID(),
  instanceGuid: randomUUID(),
  attempts: 0,
  due,
  queued: at(0),
  ...overrides,
});

/** The scan queue's part of the MetadataStore contract; called inside describeMetadataStoreContract. */
export function describeScanQueueContract(store: () => MetadataStore, reopen: (closed: MetadataStore) => Promise<MetadataStore>): void {
  describe('scan queue', () => {
    it('lists due jobs earliest first, up to the limit, and not the ones due later', async () => {
      const jobs = [job(at(3)), job(at(1)), job(at(2)), job(at(9))];
      for (const j of jobs) await store().scanQueue.put(j);
      const due = await store().scanQueue.listDue(at(3), 10);
      expect(due.map((j) => j.due)).toEqual([at(1), at(2), at(3)]);
      expect(due[0]).toEqual(jobs[1]);
      expect((await store().scanQueue.listDue(at(3), 2)).map((j) => j.due)).toEqual([at(1), at(2)]);
    });

    it('replaces a job by its data element id (reschedule) and removes it idempotently', async () => {
      const first = job(at(1));
      await store().scanQueue.put(first);
      await store().scanQueue.put({ ...first, attempts: 2, due: at(5) });
      expect(await store().scanQueue.listDue(at(4), 10)).toEqual([]);
      expect(await store().scanQueue.listDue(at(5), 10)).toEqual([{ ...first, attempts: 2, due: at(5) }]);
      await store().scanQueue.remove(first.dataElementId);
      await store().scanQueue.remove(first.dataElementId);
      expect(await store().scanQueue.listDue(at(9), 10)).toEqual([]);
    });

    it('tells how many jobs wait and when the longest-waiting was queued', async () => {
      expect(await store().scanQueue.backlog()).toEqual({ jobs: 0, oldestQueued: null });
      const jobs = [job(at(5), { queued: at(2) }), job(at(1), { queued: at(3) }), job(at(9), { queued: at(1) })];
      for (const j of jobs) await store().scanQueue.put(j);
      // By when it was queued, not when it is due next: a job rescheduled again and again still counts from the start.
      expect(await store().scanQueue.backlog()).toEqual({ jobs: 3, oldestQueued: at(1) });
      await store().scanQueue.remove(jobs[2]!.dataElementId);
      expect(await store().scanQueue.backlog()).toEqual({ jobs: 2, oldestQueued: at(2) });
    });

    it('keeps jobs across a restart', async () => {
      const kept = job(at(1));
      await store().scanQueue.put(kept);
      const current = store();
      await current.close();
      const reopened = await reopen(current);
      expect(await reopened.scanQueue.listDue(at(2), 10)).toEqual([kept]);
    });
  });
}
