import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Document } from 'mongodb';
import { idForKey, isDuplicateKeyError } from '@forms/mongo-support';

/** A sequence number handed out for one write, with the database time it was handed out at. */
export interface Reservation {
  sequence: number;
  at: Date;
}

/**
 * The commit-ordered write sequence on MongoDB without transactions (docs/adr/0013-order-across-replicas.md).
 *
 * One counter document holds `next` (the last sequence handed out) and `inflight`, the sequences handed out
 * whose write has not finished, each with the database time (`$currentDate`, never a process clock) it was
 * handed out. A write reserves its sequence with a compare-and-set of `next` that adds it to `inflight` in
 * the same single-document update, writes, then releases it. The committed watermark is just below the
 * lowest sequence still in flight (or `next` when none is): every write at or below it has finished.
 *
 * A replica that dies mid-write leaves its reservation behind; after `leaseMs` of database time readers
 * pass it (and drop it). A write that finishes after its lease may have been passed by a reader, so the
 * writer learns that from the release (database time again) and moves its write to a fresh sequence.
 */
export class MongoSequence {
  private readonly id = idForKey('instance-writes');

  constructor(
    private readonly counters: Collection,
    private readonly leaseMs: number,
  ) {}

  async init(): Promise<void> {
    try {
      await this.counters.updateOne({ _id: this.id }, { $setOnInsert: { next: 0, inflight: {} } }, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // another replica created it first
    }
  }

  /** Reserves `count` consecutive sequences (the first is returned); they stay in flight until released. */
  async reserve(count = 1): Promise<Reservation> {
    let next = await this.readNext();
    for (let attempt = 1; ; attempt += 1) {
      const first = next + 1;
      const after = await this.counters.findOneAndUpdate(
        { _id: this.id, next },
        { $set: { next: next + count }, $currentDate: { [inflightKey(first)]: true, clock: true } },
        { returnDocument: 'after' },
      );
      const at = (after?.inflight as Record<string, Date> | undefined)?.[`s${first}`];
      if (after && at) return { sequence: first, at };
      // Another write took it: after a few immediate retries, back off with jitter so a burst spreads out.
      if (attempt > 3) await sleep(Math.random() * Math.min(50, 2 * attempt));
      next = await this.readNext();
    }
  }

  /**
   * Ends a reservation. Returns false when it finished after its lease, when a reader may already have
   * passed it: the caller must then move what it wrote to a fresh sequence.
   */
  async release(reservation: Reservation): Promise<boolean> {
    const after = await this.counters.findOneAndUpdate(
      { _id: this.id },
      { $unset: { [inflightKey(reservation.sequence)]: '' }, $currentDate: { clock: true } },
      { returnDocument: 'after', projection: { clock: 1 } },
    );
    const releasedAt = after?.clock instanceof Date ? after.clock.getTime() : Number.POSITIVE_INFINITY;
    // A margin for another primary's clock after a failover.
    return releasedAt - reservation.at.getTime() < this.leaseMs * 0.9;
  }

  /** The committed watermark: every write with a sequence at or below it has finished or never will. */
  async watermark(): Promise<number> {
    const [state] = await this.counters.aggregate([{ $match: { _id: this.id } }, { $project: { next: 1, inflight: 1, now: '$$NOW' } }]).toArray();
    if (!state) return 0;
    const now = (state.now as Date).getTime();
    let lowest = Number.POSITIVE_INFINITY;
    for (const [key, at] of Object.entries((state.inflight ?? {}) as Record<string, Date>)) {
      const sequence = Number(key.slice(1));
      if (now - at.getTime() < this.leaseMs) {
        lowest = Math.min(lowest, sequence);
      } else {
        // Abandoned by a writer that died: dropped, only if it is still the same reservation.
        void this.counters.updateOne({ _id: this.id, [inflightKey(sequence)]: at }, { $unset: { [inflightKey(sequence)]: '' } }).catch(() => undefined);
      }
    }
    return Math.min(Number(state.next), lowest - 1);
  }

  /**
   * Runs `write` under a fresh sequence and releases it. When the write outlived its lease, `move` is
   * asked to put what it wrote under a fresh sequence (from `from` to `to`), until one finishes in time.
   */
  async write<T>(write: (sequence: number) => Promise<T>, move: (from: number, to: number) => Promise<void>): Promise<T> {
    let reservation = await this.reserve();
    let result: T;
    try {
      result = await write(reservation.sequence);
    } catch (error) {
      await this.release(reservation).catch(() => undefined);
      throw error;
    }
    while (!(await this.release(reservation))) {
      const late = reservation.sequence;
      reservation = await this.reserve();
      try {
        await move(late, reservation.sequence);
      } catch (error) {
        await this.release(reservation).catch(() => undefined);
        throw error;
      }
    }
    return result;
  }

  private async readNext(): Promise<number> {
    const state = await this.counters.findOne({ _id: this.id }, { projection: { next: 1 } });
    if (!state) throw new Error('the sequence counter is missing (init was not called)');
    return Number((state as Document).next);
  }
}

const inflightKey = (sequence: number) => `inflight.s${sequence}`;
