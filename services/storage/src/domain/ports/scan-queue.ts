/**
 * A data element whose malware scan has not reached a verdict (the scanner was down, timed out or the service
 * stopped mid-scan). Written before the element is recorded as `Pending`, removed once it has a verdict, so a
 * crash at any point leaves either a final state or a job for the rescan worker.
 */
export interface ScanJob {
  dataElementId: string;
  instanceGuid: string;
  /** Failed attempts so far; the next one waits longer (backoff). */
  attempts: number;
  /** Earliest time of the next attempt (ISO). */
  due: string;
  queued: string;
}

export interface ScanQueueRepository {
  /** Inserts or replaces the job of `job.dataElementId`. */
  put(job: ScanJob): Promise<void>;
  /** Idempotent. */
  remove(dataElementId: string): Promise<void>;
  /** Jobs due at or before `now`, earliest first. */
  listDue(now: string, limit: number): Promise<ScanJob[]>;
  /** How many jobs wait, and when the longest-waiting of them was queued (for metrics: a scanner that is down shows here). */
  backlog(): Promise<ScanBacklog>;
}

export interface ScanBacklog {
  jobs: number;
  /** `queued` of the job queued first; null when none waits. */
  oldestQueued: string | null;
}
