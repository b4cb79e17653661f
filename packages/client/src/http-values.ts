import contentDisposition from 'content-disposition';

/** What the clients' calls are made of and read from: paths, queries, ETags and other header values. */

/** The version in an ETag `"<version>"` (weak or strong); undefined when there is none. */
export function parseEtag(etag: string | null | undefined): number | undefined {
  const match = etag ? /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(etag) : null;
  return match ? Number(match[1]) : undefined;
}

/** `<a>/<b>` ids (app ids, instance ids) as path segments, each encoded. */
export const segments = (id: string) => id.split('/').map(encodeURIComponent).join('/');

export const ifMatch = (version: number | undefined): Record<string, string> => (version === undefined ? {} : { 'if-match': `"${version}"` });

export type QueryValues = Record<string, string | number | boolean | string[] | undefined>;

export function toSearchParams(query: QueryValues): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A header of undici's answer: the first value when repeated. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An absolute URL as undici's dispatcher takes it. */
export const originAndPath = (url: URL) => ({ origin: url.origin, path: `${url.pathname}${url.search}` });

/** The Content-Disposition of a file sent under `filename` (encoded as RFC 6266 says). */
export const attachmentDisposition = (filename: string) => contentDisposition(filename, { type: 'attachment' });

/** The filename of a Content-Disposition header, if it has a readable one. */
export function filenameOf(header: string | null): string | undefined {
  if (!header) return undefined;
  try {
    return contentDisposition.parse(header).parameters.filename;
  } catch {
    return undefined; // a malformed header loses only the filename, not the download
  }
}
