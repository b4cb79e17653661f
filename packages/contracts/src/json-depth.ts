import { DomainError } from './errors';

/** Deeper JSON than any form needs; recursive code (validation, cloning, serialising) stays far from the stack's end. */
export const MAX_JSON_DEPTH = 100;

/**
 * Refuses JSON text nested deeper than `maxDepth` before it is parsed: a 100 000-deep array parses, but every
 * recursive walk over it afterwards would overflow the stack (a 500). One pass over the text, strings skipped.
 */
export function assertJsonDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > maxDepth) throw new DomainError('invalid', 'JSON_TOO_DEEP', `The JSON is nested deeper than ${maxDepth} levels.`);
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
}
