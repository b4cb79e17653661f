export interface EventuallyOptions {
  /** Longest wait (default 10 s). */
  timeoutMs?: number;
  /** Pause between two checks (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the error on time-out. */
  what?: string;
}

/**
 * Checks again and again until `check` gives something other than `undefined` or `false`, and resolves with
 * that; rejects, naming `what`, once `timeoutMs` has passed. For what a test cannot await directly: a file a
 * child process writes, a worker's checkpoint, an event that arrives through a relay.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Exclude<T, undefined | false>> {
  const { timeoutMs = 10_000, intervalMs = 50, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
