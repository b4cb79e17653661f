import type { DataElement, Instance } from '@forms/contracts';
import { assertChangeWithinLimits, assertRoomForDataElement } from '../../src/domain/instance-limits';

const element = (id: string) => ({ id, dataType: 'attachment' }) as DataElement;
const instanceWith = (elements: number, values: Record<string, string> = {}) =>
  ({ id: '50001/guid', data: Array.from({ length: elements }, (_, i) => element(String(i))), dataValues: values }) as unknown as Instance;
const code = (check: () => void) => {
  try {
    check();
    return 'allowed';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('the limits of one instance', () => {
  const limits = { maxDataElements: 3, maxDocumentBytes: 2000 };

  it('refuses a fourth element on an instance that has three', () => {
    expect(code(() => assertRoomForDataElement(instanceWith(2), limits))).toBe('allowed');
    expect(code(() => assertRoomForDataElement(instanceWith(3), limits))).toBe('INSTANCE_DATA_ELEMENT_LIMIT');
  });

  it('refuses a change that grows past a limit', () => {
    expect(code(() => assertChangeWithinLimits(instanceWith(4), instanceWith(3), limits))).toBe('INSTANCE_DATA_ELEMENT_LIMIT');
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'x'.repeat(2000) }), instanceWith(1), limits))).toBe('INSTANCE_TOO_LARGE');
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'x'.repeat(1000) }), instanceWith(1), limits))).toBe('allowed');
    // Bytes of UTF-8, not characters: 1 100 characters of two bytes each do not fit in 2 000 bytes.
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'æ'.repeat(800) }), instanceWith(1), limits))).toBe('allowed');
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'æ'.repeat(1100) }), instanceWith(1), limits))).toBe('INSTANCE_TOO_LARGE');
  });

  it('lets an instance already past a lowered limit change without growing', () => {
    expect(code(() => assertChangeWithinLimits(instanceWith(5), instanceWith(5), limits))).toBe('allowed');
    expect(code(() => assertChangeWithinLimits(instanceWith(4), instanceWith(5), limits))).toBe('allowed');
    const large = instanceWith(1, { a: 'x'.repeat(3000) });
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'y'.repeat(3000) }), large, limits))).toBe('allowed');
    expect(code(() => assertChangeWithinLimits(instanceWith(1, { a: 'x'.repeat(3001) }), large, limits))).toBe('INSTANCE_TOO_LARGE');
  });
});
