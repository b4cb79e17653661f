import { setTimeout as sleep } from 'node:timers/promises';

/** Concurrent writers without If-Match retry this often before giving up with 409 WRITE_CONFLICT. */
export const MAX_WRITE_ATTEMPTS = 25;

/**
 * Waits before retry `attempt` (1 for the first retry) of a read-modify-write that lost a version race:
 * "full jitter" exponential backoff (a random wait up to 4 ms, 8 ms, ... capped at 200 ms), so writers that
 * collided spread out instead of colliding again, on one replica or many. 60 writers of one instance all
 * land within a few seconds; a writer gives up (409) only after about 2.5 s of waiting on average.
 */
export function backOff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 2 ** (attempt + 1));
  return sleep(Math.random() * ceiling);
}

/**
 * The time a change is stamped with: the clock, but never before the instance's previous change, so a
 * replica whose clock is behind cannot backdate an instance nor list its events before earlier ones.
 */
export function changeTime(clock: string, previous: string): string {
  return clock < previous ? previous : clock;
}

/**
 * Whether two JSON documents hold the same values (member order aside): a change that leaves the document
 * so writes nothing. By value, not by prototype, as the documents come from JSON and structuredClone.
 */
export function sameDocument(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameDocument(item, b[index]));
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const keys = Object.keys(aRecord).filter((key) => aRecord[key] !== undefined);
  const otherKeys = Object.keys(bRecord).filter((key) => bRecord[key] !== undefined);
  return keys.length === otherKeys.length && keys.every((key) => Object.hasOwn(bRecord, key) && sameDocument(aRecord[key], bRecord[key]));
}
