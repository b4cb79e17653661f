/**
 * One deadline for all the calls a piece of work makes, however many there are: a service gives each incoming
 * request a `Deadline` and makes its calls through a client view bounded by it (`StorageApi.within`), so every
 * call gets only the time left and the request as a whole is answered within its budget instead of within one
 * timeout per call. Progress moves the deadline on: each chunk of a streamed upload that goes out gives the work
 * its whole budget again, so a long upload is bounded by its pauses, not by its length.
 *
 * Passed explicitly rather than found through AsyncLocalStorage: on Node 20 that turns on promise hooks for the
 * whole process, which cost the app service about a sixth of its CPU per instantiation (issue 11).
 */
export class Deadline {
  private constructor(
    private at: number,
    /** What the work gets from its start, and again from every sign of progress. */
    readonly budgetMs: number,
  ) {}

  /** `budgetMs` from `startedAt` (default: now), e.g. from a request's arrival. */
  static after(budgetMs: number, startedAt = Date.now()): Deadline {
    return new Deadline(startedAt + budgetMs, budgetMs);
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** The service being waited for is working (an upload chunk went out): the budget starts again. */
  progressed(): void {
    this.at = Math.max(this.at, Date.now() + this.budgetMs);
  }
}
