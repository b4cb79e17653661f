/** Current time as an ISO-8601 string; injectable so tests can pin time. */
export type Clock = () => string;

/**
 * Never returns a value lower than the previous one, even if the wall clock steps back, so
 * instances created later never sort before earlier ones in (lastChanged, id) order.
 */
export function monotonicClock(offsetMs = 0): Clock {
  let last = 0;
  return () => {
    last = Math.max(Date.now() + offsetMs, last);
    return new Date(last).toISOString();
  };
}
