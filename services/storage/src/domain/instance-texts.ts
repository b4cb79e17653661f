import type { PresentationTexts } from '@forms/contracts';

/** Applies text changes as Altinn does: a null or empty value removes the key, any other value sets it. */
export function withoutEmptyTexts(current: Record<string, string>, changes: PresentationTexts): Record<string, string> {
  const texts = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '') delete texts[key];
    else texts[key] = value;
  }
  return texts;
}
