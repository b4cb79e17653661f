import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One deadline for all the calls a piece of work makes, however many there are: a service runs each
 * incoming request inside `withDeadline`, and every client call made for it (through HttpClient) gets
 * only the time left, so the request as a whole is answered within its budget instead of within one
 * timeout per call. Outside any deadline a call has its client's own `timeoutMs`.
 */
const deadlines = new AsyncLocalStorage<number | undefined>();

/** Runs `work` with every client call inside it ending by `deadline` (epoch milliseconds) at the latest. */
export function withDeadline<T>(deadline: number, work: () => T): T {
  const outer = deadlines.getStore();
  return deadlines.run(outer === undefined ? deadline : Math.min(outer, deadline), work);
}

/** Runs `work` free of the surrounding deadline (say, a clean-up that should go on after the answer left). */
export function withoutDeadline<T>(work: () => T): T {
  return deadlines.run(undefined, work);
}

/** Milliseconds left until the current deadline (at least 0), or undefined outside any. */
export function remainingUntilDeadline(): number | undefined {
  const deadline = deadlines.getStore();
  return deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
}
