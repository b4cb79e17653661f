/** Shared XML text handling for form data and BPMN: the DOCTYPE refusal and safe entity decoding. */
import { DomainError } from '@forms/contracts';

/**
 * Refuses any document with a DOCTYPE before a parser sees it: internal entities (billion laughs) and external
 * entities (XXE) can only be declared in one, and form data never needs them.
 */
export function refuseDoctype(xml: string): void {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new DomainError('invalid', 'XML_DTD_FORBIDDEN', 'XML with a DOCTYPE or entity declarations is not accepted.');
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The parser runs with entity processing off (so nothing can expand); this decodes only the five predefined
 * entities and character references, which is all a document without a DTD may contain.
 */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);/g, (whole, reference: string) => {
    if (reference.startsWith('#')) {
      const codePoint = reference[1] === 'x' ? Number.parseInt(reference.slice(2), 16) : Number.parseInt(reference.slice(1), 10);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole;
    }
    return PREDEFINED[reference] ?? whole;
  });
}
