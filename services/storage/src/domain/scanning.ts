import { timeOrderedUuid, type DataElement, type DataType, type FileScanResult, type Instance, type InstanceEvent, type Principal } from '@forms/contracts';
import { StorageErrors } from './errors';
import { ScanFailedError, type MalwareScanner, type ScanVerdict } from './ports/malware-scanner';
import type { ScanJob } from './ports/scan-queue';
import { ScanTap } from './scan-tap';
import { recordVerdict, type ScanFields } from './scan-verdict';
import type { StorageContext } from './storage-context';
import type { Readable } from 'node:stream';
import { deleteContent } from './content';

/** How the operator configured malware scanning (config: CLAMD_*, SCAN_*). */
export interface ScanPolicy {
  /** None: scanning is off and every element is `NotApplicable`. */
  scanner?: MalwareScanner;
  /** Scan every upload, not only those of data types with `enableFileScan`. */
  scanAllUploads: boolean;
  /** Scanner down or timing out: keep the upload as `Pending` for the worker (`pending`), or refuse it (`refuse`). */
  onScannerFailure: 'pending' | 'refuse';
  /** What happens to the blob of `Infected` content: kept unreadable for inspection, or deleted. */
  infectedBlobs: 'quarantine' | 'delete';
  /** Whether the app owner (org) may download `Pending` content; parties never may. */
  pendingServedToOrg: boolean;
  /**
   * How long an upload waits for clamd's verdict (clamd scans once the stream has ended). Past it the element is
   * recorded `Pending` and the verdict is recorded when it arrives, so large uploads are not held up by the scan.
   */
  verdictWaitMs: number;
  /**
   * Only uploads up to this size wait for the verdict. clamd scans tens of MB a second, and only once the stream has
   * ended: the verdict of a larger upload cannot come within the wait, so waiting would only hold up its answer.
   */
  verdictWaitMaxBytes: number;
  /** Rescans of `Pending` elements: first retry after `initialMs`, doubling up to `maxMs`. */
  retry: { initialMs: number; maxMs: number };
}

export const SCANNING_OFF: ScanPolicy = {
  scanAllUploads: false,
  onScannerFailure: 'pending',
  infectedBlobs: 'delete',
  pendingServedToOrg: false,
  verdictWaitMs: 200,
  verdictWaitMaxBytes: 8 * 1024 * 1024,
  retry: { initialMs: 30_000, maxMs: 3_600_000 },
};

export type { ScanFields };

/** A job older than this whose element never appeared belongs to an upload that failed or crashed: dropped. */
const ORPHAN_JOB_AFTER_MS = 10 * 60_000;

export const NOT_APPLICABLE: ScanFields = { fileScanResult: 'NotApplicable' };

export function fieldsOf(outcome: ScanVerdict | ScanFailedError, now: string): ScanFields {
  if (outcome instanceof ScanFailedError) return { fileScanResult: 'Pending' };
  if (outcome.outcome === 'infected') return { fileScanResult: 'Infected', fileScanTime: now, fileScanSignature: outcome.signature };
  return { fileScanResult: 'Clean', fileScanTime: now };
}

export function backoffMs(policy: ScanPolicy, attempts: number): number {
  return Math.min(policy.retry.maxMs, policy.retry.initialMs * 2 ** Math.max(0, attempts - 1));
}

/** The verdict, or undefined when it has not come within `ms`. */
async function verdictWithin(scan: UploadScan, ms: number): Promise<ScanVerdict | ScanFailedError | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([scan.tap.verdict, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An upload's scan, running alongside the blob write. */
export interface UploadScan {
  tap: ScanTap;
}

/**
 * Malware scanning of data element content: which uploads are scanned, what their verdict does to the element,
 * and who may read content in each state. The upload path calls `start`, `conclude` and `afterRecorded`; the
 * download path calls `assertServable`; the rescan worker (scan-worker.ts) finishes `Pending` elements.
 */
export class Scanning {
  /** Verdicts still to be recorded for uploads that were answered Pending. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: StorageContext,
    readonly policy: ScanPolicy,
  ) {}

  get enabled(): boolean {
    return this.policy.scanner !== undefined;
  }

  applies(dataType: DataType): boolean {
    return this.enabled && (this.policy.scanAllUploads || dataType.enableFileScan === true);
  }

  /** Refuses before reading when the declared length alone is more than the scanner accepts. */
  assertScannable(dataType: DataType, declaredLength: number | undefined): void {
    const scanner = this.policy.scanner;
    if (scanner && this.applies(dataType) && declaredLength !== undefined && declaredLength > scanner.maxStreamBytes) {
      throw StorageErrors.tooLargeToScan(scanner.maxStreamBytes);
    }
  }

  /** The content to hand to the blob store: `content` itself, or a tap that also scans it. */
  start(dataType: DataType, content: Readable): { body: Readable; scan?: UploadScan } {
    const scanner = this.policy.scanner;
    if (!scanner || !this.applies(dataType)) return { body: content };
    const tap = ScanTap.over(content, scanner);
    return { body: tap, scan: { tap } };
  }

  /**
   * Once the blob is written: the element's scan fields. A failed scan either refuses the upload (fail-closed by
   * refusal) or queues the element for the rescan worker before it is recorded as `Pending`.
   */
  async conclude(scan: UploadScan | undefined, dataElementId: string, instanceGuid: string, blobStoragePath: string): Promise<ScanFields> {
    if (!scan) return NOT_APPLICABLE;
    // Refusing on failure needs the verdict before the upload is accepted; otherwise wait only so long, and only
    // for content small enough to be scanned within that time. Without a wait the upload is answered Pending, as
    // Altinn does, and the verdict is recorded when it comes.
    const waitMs = scan.tap.byteCount <= this.policy.verdictWaitMaxBytes ? this.policy.verdictWaitMs : 0;
    const outcome = this.policy.onScannerFailure === 'refuse' ? await scan.tap.verdict : waitMs === 0 ? undefined : await verdictWithin(scan, waitMs);
    const now = this.ctx.clock();
    if (outcome === undefined) {
      // Queued first, so that a crash before the verdict is recorded leaves the job for the worker.
      const job: ScanJob = { dataElementId, instanceGuid, attempts: 0, due: this.later(now, 1), queued: now };
      await this.ctx.store.scanQueue.put(job);
      this.recordWhenDone(scan, job, blobStoragePath);
      return { fileScanResult: 'Pending' };
    }
    if (outcome instanceof ScanFailedError) {
      if (this.policy.onScannerFailure === 'refuse') throw StorageErrors.scannerUnavailable(outcome.message);
      await this.ctx.store.scanQueue.put({ dataElementId, instanceGuid, attempts: 1, due: this.later(now, 1), queued: now });
    }
    return fieldsOf(outcome, now);
  }

  /** Records the verdict of a scan that outlived the upload's wait, once the element is on the instance. */
  private recordWhenDone(scan: UploadScan, job: ScanJob, blobStoragePath: string): void {
    const task = (async () => {
      const outcome = await scan.tap.verdict;
      if (outcome instanceof ScanFailedError) return; // the job stays: the worker rescans with backoff
      const fields = fieldsOf(outcome, this.ctx.clock());
      for (let attempt = 0; attempt < 50; attempt++) {
        const recorded = await recordVerdict(this.ctx, job, blobStoragePath, fields);
        if (recorded === 'void') return;
        if (recorded !== 'missing') {
          await this.ctx.store.scanQueue.remove(job.dataElementId);
          if (recorded.element.fileScanResult === 'Infected') await this.handleInfected(recorded.instance, recorded.element);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100)); // the upload is still recording the element
      }
    })().catch(() => undefined); // the job stays for the worker
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Waits for verdicts still being recorded (on shutdown, before the stores close). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** After the element is recorded: an earlier job of the element is obsolete; Infected content is dealt with. */
  async afterRecorded(instance: Instance, element: DataElement, previousResult?: FileScanResult): Promise<void> {
    if (!this.enabled) return;
    if (element.fileScanResult !== 'Pending' && previousResult === 'Pending') await this.ctx.store.scanQueue.remove(element.id);
    if (element.fileScanResult === 'Infected') await this.handleInfected(instance, element);
  }

  /** Infected: an audit event for the org, and the blob deleted or kept unreadable per configuration. */
  async handleInfected(instance: Instance, element: DataElement): Promise<void> {
    const event: InstanceEvent = {
      id: timeOrderedUuid(),
      instanceId: instance.id,
      eventType: 'DataFileScanInfected',
      created: this.ctx.clock(),
      instanceOwnerPartyId: instance.instanceOwner.partyId,
      user: { systemId: 'platform:malware-scanner' },
      dataId: element.id,
    };
    await this.ctx.store.events.insert(event);
    if (this.policy.infectedBlobs === 'delete') await deleteContent(this.ctx, element.blobStoragePath);
  }

  /** Infected content is served to no one; Pending content only to the app owner, and only if configured. */
  assertServable(principal: Principal, element: DataElement): void {
    if (element.fileScanResult === 'Infected') throw StorageErrors.dataInfected();
    if (element.fileScanResult === 'Pending' && !(principal.kind === 'org' && this.policy.pendingServedToOrg)) {
      throw StorageErrors.dataScanPending();
    }
  }

  later(now: string, attempts: number): string {
    return new Date(Date.parse(now) + backoffMs(this.policy, attempts)).toISOString();
  }

  isOrphan(job: ScanJob, now: string): boolean {
    return Date.parse(now) - Date.parse(job.queued) > ORPHAN_JOB_AFTER_MS;
  }
}
