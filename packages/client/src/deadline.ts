import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One deadline for all the calls a piece of work makes, however many there are: a service runs each
 * incoming request inside `withDeadline`, and every client call made for it (through HttpClient) gets
 * only the time left, so the request as a whole is answered within its budget instead of within one
 * timeout per call. Progress moves the deadline on: each chunk of a streamed upload that goes out gives
 * the work its whole budget again, so a long upload is bounded by its pauses, not by its length. Outside
 * any deadline a call has its client's own `timeoutMs`.
 */
export class Deadline {
  constructor(
    private at: number,
    /** What the work gets from its start, and again from every sign of progress. */
    readonly budgetMs: number,
  ) {}

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** The service being waited for is working (an upload chunk went out): the budget starts again. */
  progressed(): void {
    this.at = Math.max(this.at, Date.now() + this.budgetMs);
  }
}

const deadlines = new AsyncLocalStorage<Deadline | undefined>();

/** Runs `work` with every client call inside it bounded by `budgetMs` from `startedAt` (default: now). */
export function withDeadline<T>(budgetMs: number, work: () => T, startedAt = Date.now()): T {
  return deadlines.run(new Deadline(startedAt + budgetMs, budgetMs), work);
}

/** Runs `work` free of the surrounding deadline (say, a clean-up that should go on after the answer left). */
export function withoutDeadline<T>(work: () => T): T {
  return deadlines.run(undefined, work);
}

/** The deadline of the work this runs for, if any. */
export function currentDeadline(): Deadline | undefined {
  return deadlines.getStore();
}
