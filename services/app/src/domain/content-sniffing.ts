/**
 * Recognises a file's real type from its first bytes, so an attachment is judged by its content and not
 * only by the Content-Type its sender claims.
 */
const SIGNATURES: Array<{ type: string; bytes: number[]; offset?: number }> = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'image/tiff', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
];

/** Office documents are zip files; their declared type is accepted when the content is a zip. */
const ZIP_BASED = new Set([
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.oasis.opendocument.text',
]);

/** How many leading bytes `sniffContentType` needs. */
export const SNIFF_BYTES = 16;

export function sniffContentType(head: Buffer): string | undefined {
  return SIGNATURES.find(({ bytes, offset = 0 }) => bytes.every((byte, i) => head[offset + i] === byte))?.type;
}

/**
 * Whether content starting with `head` may be stored as `declared`. Types we can recognise must match;
 * a declared type we have no signature for is accepted only if the content is not a recognisable other type.
 */
export function contentMatchesDeclaredType(head: Buffer, declared: string): boolean {
  const actual = sniffContentType(head);
  if (actual === 'application/zip') return ZIP_BASED.has(declared);
  const recognisable = SIGNATURES.some((s) => s.type === declared) || ZIP_BASED.has(declared);
  if (recognisable) return actual === declared;
  return actual === undefined;
}
