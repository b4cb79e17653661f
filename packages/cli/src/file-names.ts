import type { DataElement } from '@forms/contracts';
import { extensionOf } from './content-type';

/**
 * A name someone else chose (a data element's filename), made safe to create in a folder of ours: only ASCII
 * letters, digits, `.`, `_`, ` ` and `-` are kept (so no path separator, control or bidi character, no `..`),
 * no leading dot or space, at most 100 characters. Undefined when nothing is left.
 */
export function safeFileName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(-100);
  return cleaned === '' ? undefined : cleaned;
}

/**
 * The file name of a data element on disk: its own filename made safe, else `<dataType><extension>`. A name
 * without extension gets the one of its content type, so the file opens with the right program.
 */
export function elementFileName(element: Pick<DataElement, 'filename' | 'dataType' | 'contentType'>): string {
  const own = safeFileName(element.filename);
  return own && own.includes('.') ? own : `${own ?? safeFileName(element.dataType) ?? 'data'}${extensionOf(element.contentType)}`;
}
