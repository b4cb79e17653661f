import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import contentDisposition from 'content-disposition';
import { ACCESS_TOKEN_HEADER, DomainError, STATUS_BY_KIND } from '@forms/contracts';
import type { ErrorKind } from '@forms/contracts';

/**
 * The request, error and timeout machinery every client in this package shares (internal: index.ts only
 * re-exports the helpers the public API has always had). One `HttpClient` talks to one service; what differs
 * between services is only the name and code prefix used for their outages ("Storage", `STORAGE_*`).
 */

export interface ContentOptions {
  contentType: string;
  filename?: string;
  /** Known length of the body, sent as Content-Length. */
  contentLength?: number;
}

export type Body = Readable | Buffer | string;

export interface Versioned<T> {
  value: T;
  /** The resource version from the ETag. */
  version: number;
}

export interface DataDownload {
  body: Readable;
  contentType: string;
  /** Content-Length of this response. */
  size: number;
  filename?: string;
  version: number;
}

export interface Call {
  token?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  /** A body sent as it is, with its own content type (and filename as Content-Disposition). */
  content?: { body: Body; options: ContentOptions };
}

/** Who is on the other end, for the errors a client makes itself (outage, timeout, broken answer). */
export interface ServiceIdentity {
  /** e.g. `Storage`, used in messages. */
  name: string;
  /** e.g. `STORAGE`, giving `STORAGE_UNAVAILABLE` and `STORAGE_TIMEOUT`. */
  codePrefix: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const KIND_BY_STATUS = new Map<number, ErrorKind>(Object.entries(STATUS_BY_KIND).map(([kind, status]) => [status, kind as ErrorKind]));
/** Members of a problem document that the DomainError carries itself, or that the next service sets anew. */
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'code', 'detail', 'instance', 'requestId']);

export function kindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS.get(status) ?? (status >= 500 ? 'unavailable' : 'invalid');
}

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

export class HttpClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;

  private readonly accessToken: (() => Promise<string>) | undefined;

  constructor(
    options: { baseUrl: string; timeoutMs?: number; accessToken?: () => Promise<string> },
    private readonly service: ServiceIdentity,
  ) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.accessToken = options.accessToken;
  }

  async json<T>(path: string, call: Call): Promise<T> {
    return (await this.readJson(await this.send(path, call))) as T;
  }

  /** A JSON answer with the version from its ETag (or the given fallback). */
  async versioned<T>(path: string, call: Call, fallback: (value: T) => number = () => 0): Promise<Versioned<T>> {
    const response = await this.send(path, call);
    const value = (await this.readJson(response)) as T;
    return { value, version: parseEtag(response.headers.get('etag')) ?? fallback(value) };
  }

  async text(path: string, call: Call): Promise<{ text: string; response: Response }> {
    const response = await this.send(path, call);
    try {
      return { text: await response.text(), response };
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  async download(path: string, call: Call): Promise<DataDownload> {
    const response = await this.send(path, call);
    const filename = filenameOf(response.headers.get('content-disposition'));
    return {
      body: response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      size: Number(response.headers.get('content-length') ?? 0),
      version: parseEtag(response.headers.get('etag')) ?? 0,
      ...(filename !== undefined && { filename }),
    };
  }

  /** A request whose answer has no body worth reading. */
  async empty(path: string, call: Call): Promise<void> {
    await this.discard(await this.send(path, call));
  }

  /** The path and query of a link (its host may be the service's public name), relative to baseUrl. */
  relativeToBase(link: string): string {
    const url = new URL(link, this.baseUrl);
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
    return `${path}${url.search}`;
  }

  /**
   * One request. The timer only runs until the response headers arrive, so a long download is not cut off;
   * non-2xx answers are turned into DomainErrors here.
   */
  async send(pathOrUrl: string, call: Call): Promise<Response> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const headers: Record<string, string> = { ...call.headers };
    if (call.token) headers.authorization = `Bearer ${call.token}`;
    if (this.accessToken) {
      // The caller's own token beside the bearer's; a caller sending its own token as bearer needs no second copy.
      const accessToken = await this.accessToken();
      if (accessToken !== '' && accessToken !== call.token) headers[ACCESS_TOKEN_HEADER] = accessToken;
    }
    let body: string | Buffer | undefined;
    let upload: Readable | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.content) {
      const { options } = call.content;
      headers['content-type'] = options.contentType;
      if (options.filename) headers['content-disposition'] = contentDisposition(options.filename, { type: 'attachment' });
      if (call.content.body instanceof Readable) {
        upload = call.content.body;
        // fetch measures strings and buffers itself; a stream's length is only known when the caller says so.
        if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
      } else {
        body = call.content.body;
      }
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: call.method ?? 'GET',
        headers,
        signal: controller.signal,
        // A streamed request body needs `duplex: 'half'`.
        ...(upload ? { body: Readable.toWeb(upload) as ReadableStream, duplex: 'half' } : body !== undefined && { body }),
      });
    } catch (error) {
      // A failing upload stream is the caller's own error, not the service's.
      const failure = controller.signal.aborted ? this.timeoutError() : (upload?.errored ?? this.unavailable(error));
      upload?.destroy();
      throw failure;
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const error = await this.problemError(response);
      if (upload && !upload.readableEnded) {
        // The service refused the upload before reading all of it (400, 413, 415): stop sending the rest, and
        // abort the exchange so the connection is closed rather than left half-sent (which keeps the server open).
        upload.destroy();
        controller.abort();
      }
      throw error;
    }
    return response;
  }

  async readJson(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  async discard(response: Response): Promise<void> {
    await response.body?.cancel().catch(() => undefined);
  }

  timeoutError(): DomainError {
    return new DomainError('timeout', `${this.service.codePrefix}_TIMEOUT`, `${this.service.name} did not answer within ${this.timeoutMs} ms.`);
  }

  unavailable(error: unknown): DomainError {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return new DomainError('unavailable', `${this.service.codePrefix}_UNAVAILABLE`, `${this.service.name} is unavailable: ${cause}`);
  }

  /**
   * A problem+json answer keeps the service's own code and detail; an OAuth error body (RFC 6749 §5.2) keeps its
   * `error` as the code; anything else is a broken or missing service.
   */
  async problemError(response: Response): Promise<DomainError> {
    const text = await response.text().catch(() => '');
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // not JSON: handled below
    }
    const kind = kindForStatus(response.status);
    if (parsed && typeof parsed.code === 'string') {
      const extensions = Object.fromEntries(Object.entries(parsed).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
      const message = String(parsed.detail ?? parsed.title ?? `HTTP ${response.status}`);
      return new DomainError(kind, parsed.code, message, Object.keys(extensions).length > 0 ? extensions : undefined);
    }
    // OAuth error codes are lower-case words (`invalid_client`); Fastify's own `{error: 'Not Found'}` is not one.
    if (parsed && typeof parsed.error === 'string' && /^[a-z_]+$/.test(parsed.error) && response.status < 500) {
      return new DomainError(kind, parsed.error, String(parsed.error_description ?? parsed.error));
    }
    if (response.status >= 500) return this.unavailable(new Error(`HTTP ${response.status}`));
    return new DomainError(kind, `HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
  }
}

export function filenameOf(header: string | null): string | undefined {
  if (!header) return undefined;
  try {
    return contentDisposition.parse(header).parameters.filename;
  } catch {
    return undefined; // a malformed header loses only the filename, not the download
  }
}
