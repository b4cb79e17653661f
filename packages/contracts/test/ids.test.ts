import { timeOrderedUuid } from '../src/ids';

describe('timeOrderedUuid', () => {
  it('makes UUIDv7s that increase strictly, also within one millisecond, with random bits of their own', () => {
    const now = Date.now();
    // More ids than one pool of random bytes holds, half of them in one millisecond.
    const ids = [...Array.from({ length: 300 }, () => timeOrderedUuid(now)), ...Array.from({ length: 300 }, (_, i) => timeOrderedUuid(now + 1 + i))];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The last 62 bits are random: no two ids share them.
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
    expect(Number.parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });
});
