import { RuleViolation, isRuleViolation } from '../src';

describe('isRuleViolation', () => {
  it('recognises a RuleViolation', () => {
    const violation = new RuleViolation('PartyNotAllowed', 'no');
    expect(isRuleViolation(violation)).toBe(true);
    expect(violation).toBeInstanceOf(Error);
    // The brand is a non-enumerable symbol: it never shows up in serialized errors.
    expect(Object.getOwnPropertySymbols(violation)).toEqual([Symbol.for('forms.RuleViolation')]);
    expect(JSON.stringify(violation)).toBe('{"code":"PartyNotAllowed","name":"RuleViolation"}');
  });

  it('recognises a RuleViolation from another copy of the package by its registered brand', () => {
    // What a compiled rules.js carries: its own class, branded with the same Symbol.for key.
    class CopiedRuleViolation extends Error {
      constructor(
        readonly code: string,
        message: string,
      ) {
        super(message);
        Object.defineProperty(this, Symbol.for('forms.RuleViolation'), { value: true });
      }
    }
    const copy = new CopiedRuleViolation('PartyNotAllowed', 'no');
    expect(copy).not.toBeInstanceOf(RuleViolation);
    expect(isRuleViolation(copy)).toBe(true);
  });

  it('does not take look-alikes for a RuleViolation', () => {
    expect(isRuleViolation(Object.assign(new Error('no'), { name: 'RuleViolation', code: 'X' }))).toBe(false);
    expect(isRuleViolation({ [Symbol('forms.RuleViolation')]: true, code: 'X' })).toBe(false);
    expect(isRuleViolation({ [Symbol.for('forms.RuleViolation')]: true })).toBe(false);
    expect(isRuleViolation(undefined)).toBe(false);
    expect(isRuleViolation('RuleViolation')).toBe(false);
  });
});
