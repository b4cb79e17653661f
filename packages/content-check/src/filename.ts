import contentDisposition from 'content-disposition';

/** C0 and C1 controls, DEL, and the Unicode marks that reorder text (bidi embeddings, overrides, isolates). */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const MAX_FILENAME_LENGTH = 255;

/** A malformed Content-Disposition header. */
export class InvalidContentDisposition extends Error {
  override readonly name = 'InvalidContentDisposition';
}

/**
 * A name that is safe to store and show: no control characters or bidi overrides (`invoice\u202Efdp.exe` would
 * show as `invoiceexe.pdf`), no path separators, at most 255 characters; undefined when nothing is left.
 */
export function safeFilename(name: string): string | undefined {
  const cleaned = name.normalize('NFC').replace(UNSAFE_CHARACTERS, '').replace(/[\\/]/g, '_').trim().slice(0, MAX_FILENAME_LENGTH);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? undefined : cleaned;
}

/**
 * HTTP header values arrive as latin1: a raw UTF-8 name (`filename="Søknad.pdf"` sent as UTF-8 bytes) reads as
 * mojibake. When the characters, taken as bytes, are valid UTF-8, that is what the sender meant.
 */
function decodeRawUtf8(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? value : decoded;
}

/** The filename of a `Content-Disposition` header (`filename*=UTF-8''…` wins over `filename=`), made safe. */
export function filenameFromContentDisposition(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  let parameters: Record<string, string>;
  try {
    parameters = contentDisposition.parse(header).parameters;
  } catch {
    throw new InvalidContentDisposition('The Content-Disposition header is malformed.');
  }
  const extended = /filename\*\s*=/i.test(header);
  const filename = parameters.filename;
  return filename === undefined ? undefined : safeFilename(extended ? filename : decodeRawUtf8(filename));
}

/** `attachment`, with the filename (ASCII fallback plus `filename*`) when there is one: never shown inline. */
export function attachmentDisposition(filename: string | undefined): string {
  const safe = filename === undefined ? undefined : safeFilename(filename);
  return safe === undefined ? 'attachment' : contentDisposition(safe, { type: 'attachment' });
}
