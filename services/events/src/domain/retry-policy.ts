export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** Exponential backoff with full jitter above half the step: attempt 1 waits ~initial, each next about twice as long. */
export function backoffMs(policy: RetryPolicy, failedAttempts: number, random = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
