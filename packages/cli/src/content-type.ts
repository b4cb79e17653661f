import { extname } from 'node:path';

const BY_EXTENSION: Record<string, string> = {
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.zip': 'application/zip',
};

/** The content type of a file to upload, by its extension; `application/octet-stream` when unknown. */
export function contentTypeOf(path: string): string {
  return BY_EXTENSION[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The usual extension of a content type, for files named after their data type; '' when unknown. */
export function extensionOf(contentType: string): string {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const found = Object.entries(BY_EXTENSION).find(([, type]) => type === mediaType);
  return found ? found[0] : mediaType.endsWith('+json') ? '.json' : mediaType.endsWith('+xml') ? '.xml' : '';
}
