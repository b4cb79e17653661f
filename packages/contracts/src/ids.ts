import { randomFillSync } from 'node:crypto';

let lastMillis = 0;
let sequence = 0;

// Random bytes drawn 4 KB at a time (as randomUUID does): one call into the kernel's generator per 256 ids, not one each.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function random16(): Buffer {
  if (poolOffset === POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

/**
 * A UUIDv7 (RFC 9562): time-ordered, and strictly increasing within this process, so records written
 * in the same millisecond (such as the events of one change) keep their order when sorted by id. The ids the
 * platform makes (instances, data elements, events) are these (ADR 0019): a new record's key then lands at the
 * end of every index keyed by it, where a random one would land on a page of its own. The last 62 bits are random.
 */
export function timeOrderedUuid(now = Date.now()): string {
  if (now <= lastMillis) {
    sequence++;
    if (sequence > 0xfff) {
      lastMillis++;
      sequence = 0;
    }
  } else {
    lastMillis = now;
    sequence = 0;
  }
  const bytes = random16();
  bytes.writeUIntBE(lastMillis, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
