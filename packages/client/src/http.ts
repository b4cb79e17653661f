import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { ACCESS_TOKEN_HEADER, DomainError, REQUEST_ID_HEADER, STATUS_BY_KIND } from '@forms/contracts';
import type { ErrorKind } from '@forms/contracts';
import type { Deadline } from './deadline';
import { attachmentDisposition, filenameOf, headerValue, originAndPath, parseEtag } from './http-values';

/**
 * The request, error and timeout machinery every client in this package shares (internal: index.ts only
 * re-exports the helpers the public API has always had). One `HttpClient` talks to one service; what differs
 * between services is only the name and code prefix used for their outages ("Storage", `STORAGE_*`).
 *
 * The transport is undici's `request` on a keep-alive pool, not `fetch`: no web streams or Response objects
 * between services, a fraction of fetch's CPU per call (issue 11 measured 205-334 µs against 680-775 µs).
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

/** An answer whose status was 2xx: headers, and the body as a Node stream (read it, or discard it). */
export interface HttpResponse {
  status: number;
  /** A response header by its lower-case name; the first value when repeated. */
  header(name: string): string | undefined;
  body: Readable;
}

/**
 * One keep-alive pool per origin, shared by every client in the process. Idle connections are closed after
 * 4 s (or the server's Keep-Alive hint, if shorter), before a Node server's default 5 s would close them under us.
 */
const sharedDispatcher = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000 });

export interface HttpClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  /** Another undici dispatcher (pool, proxy agent, mock); default: the shared keep-alive agent. */
  dispatcher?: Dispatcher;
  /** The caller's own token (an app service's), sent as PlatformAccessToken beside the bearer token of each call. */
  accessToken?: () => Promise<string>;
}

/** Reads a body within the call's deadline. */
type Reader<T> = (response: HttpResponse) => Promise<T>;

export class HttpClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  private readonly accessToken: (() => Promise<string>) | undefined;
  /** The base URL's origin and path: a call goes to the dispatcher as these, its URL never parsed again. */
  private readonly origin: string;
  private readonly basePath: string;

  /** Bounds every call besides `timeoutMs` (see `within`). */
  private readonly deadline: Deadline | undefined = undefined;
  /** Sent as `x-request-id` with every call (see `within`). */
  private readonly requestId: string | undefined = undefined;

  constructor(
    options: HttpClientOptions,
    private readonly service: ServiceIdentity,
  ) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher ?? sharedDispatcher;
    this.accessToken = options.accessToken;
    const base = new URL(this.baseUrl);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
  }

  /**
   * This client (same pool, same token), each call bounded also by what is left of `deadline`, and carrying
   * `requestId` (the incoming request's) as `x-request-id` when given: the called service logs under the same id.
   */
  within(deadline: Deadline, requestId?: string): HttpClient {
    // A view sharing everything but the deadline: made once per incoming request, it parses and copies nothing.
    const bounded = Object.create(this) as { deadline: Deadline | undefined; requestId: string | undefined };
    bounded.deadline = deadline;
    bounded.requestId = requestId;
    return bounded as unknown as HttpClient;
  }

  async json<T>(path: string, call: Call): Promise<T> {
    return (await this.exchange(path, call, (response) => this.readJson(response))) as T;
  }

  /** A JSON answer with the version from its ETag (or the given fallback). */
  async versioned<T>(path: string, call: Call, fallback: (value: T) => number = () => 0): Promise<Versioned<T>> {
    return this.exchange(path, call, async (response) => {
      const value = (await this.readJson(response)) as T;
      return { value, version: parseEtag(response.header('etag')) ?? fallback(value) };
    });
  }

  /** A JSON answer together with the response (for its headers). */
  async jsonWithResponse<T>(path: string, call: Call): Promise<{ value: T; response: HttpResponse }> {
    return this.exchange(path, call, async (response) => ({ value: (await this.readJson(response)) as T, response }));
  }

  async text(path: string, call: Call): Promise<{ text: string; response: HttpResponse }> {
    return this.exchange(path, call, async (response) => ({ text: await this.readText(response), response }));
  }

  /**
   * A streamed answer. The deadline covers the call until the headers; the body, which may be any size, is then
   * cut off only when no data comes for `timeoutMs`.
   */
  async download(path: string, call: Call): Promise<DataDownload> {
    return this.exchange(
      path,
      call,
      async (response) => {
        const filename = filenameOf(response.header('content-disposition') ?? null);
        return {
          body: response.body,
          contentType: response.header('content-type') ?? 'application/octet-stream',
          size: Number(response.header('content-length') ?? 0),
          version: parseEtag(response.header('etag')) ?? 0,
          ...(filename !== undefined && { filename }),
        };
      },
      { streamed: true },
    );
  }

  /** A request whose answer has no body worth reading. */
  async empty(path: string, call: Call): Promise<void> {
    await this.exchange(path, call, (response) => this.discard(response));
  }

  /** The path and query of a link (its host may be the service's public name), relative to baseUrl. */
  relativeToBase(link: string): string {
    const url = new URL(link, this.baseUrl);
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
    return `${path}${url.search}`;
  }

  /**
   * One call under one deadline of `timeoutMs`, covering connecting, sending, the response headers and reading
   * the body with `read`. A streamed upload moves the deadline on with every chunk sent (it may be any size, but
   * may not stall), and a `streamed` answer is handed over after its headers (its body then has an idle timeout
   * of `timeoutMs`). A client made `within` a deadline never waits longer than what is left of it, and upload
   * progress moves that on too. Non-2xx answers become DomainErrors.
   */
  private async exchange<T>(pathOrUrl: string, call: Call, read: Reader<T>, options: { streamed?: boolean } = {}): Promise<T> {
    const target = /^https?:\/\//.test(pathOrUrl) ? originAndPath(new URL(pathOrUrl)) : { origin: this.origin, path: `${this.basePath}${pathOrUrl}` };
    const headers: Record<string, string> = { ...call.headers };
    if (this.requestId !== undefined) headers[REQUEST_ID_HEADER] = this.requestId;
    if (call.token) headers.authorization = `Bearer ${call.token}`;
    if (this.accessToken) {
      // The caller's own token beside the bearer's; a caller sending its own token as bearer needs no second copy.
      const accessToken = await this.accessToken();
      if (accessToken !== '' && accessToken !== call.token) headers[ACCESS_TOKEN_HEADER] = accessToken;
    }
    let body: string | Buffer | Readable | undefined;
    let upload: Readable | undefined;
    let uploadFailure: { error: unknown } | undefined;
    // The shorter of this client's timeout and what is left of the deadline it is bounded by (within).
    const deadline = this.deadline;
    const waitMs = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline.remainingMs());
    if (waitMs <= 0) {
      if (call.content?.body instanceof Readable) call.content.body.destroy();
      throw this.timeoutError();
    }
    // undici takes an EventEmitter as its signal: an AbortController and its EventTarget cost ~6 µs more per call.
    const signal = new EventEmitter();
    const abort = () => signal.emit('abort');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort();
    }, waitMs);

    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.content) {
      const { options: content } = call.content;
      headers['content-type'] = content.contentType;
      if (content.filename) headers['content-disposition'] = attachmentDisposition(content.filename);
      if (call.content.body instanceof Readable) {
        upload = call.content.body;
        // Strings and buffers are measured by undici; a stream's length is only known when the caller says so.
        if (content.contentLength !== undefined) headers['content-length'] = String(content.contentLength);
        body = Readable.from(
          chunksMovingDeadline(upload, timer, deadline, (error) => {
            uploadFailure = { error };
            // End the exchange at once: a connection left open with the body half-sent keeps the service waiting.
            abort();
          }),
          { objectMode: false },
        );
      } else {
        body = call.content.body;
      }
    }

    const failed = (error: unknown): unknown => {
      // A failing upload stream is the caller's own error, not the service's.
      if (timedOut) return this.timeoutError();
      if (uploadFailure) return uploadFailure.error;
      return error instanceof DomainError ? error : this.unavailable(error);
    };

    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.dispatcher.request({
        ...target,
        method: (call.method ?? 'GET') as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
        // The deadline above covers the headers; a streamed body may not go quiet for longer than the deadline.
        headersTimeout: 0,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      clearTimeout(timer);
      upload?.destroy();
      throw failed(error);
    }

    const response: HttpResponse = { status: answer.statusCode, header: (name) => headerValue(answer.headers[name]), body: answer.body };
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      try {
        throw await this.problemError(answer.statusCode, answer.body);
      } catch (error) {
        throw failed(error);
      } finally {
        clearTimeout(timer);
        if (upload && !upload.readableEnded) {
          // The service refused the upload before reading all of it (400, 413, 415): stop sending the rest, and
          // abort the exchange so the connection is closed rather than left half-sent (which keeps the server open).
          upload.destroy();
          abort();
        }
      }
    }
    if (options.streamed) {
      clearTimeout(timer);
      return read(response);
    }
    try {
      return await read(response);
    } catch (error) {
      answer.body.destroy();
      throw failed(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readJson(response: HttpResponse): Promise<unknown> {
    return JSON.parse(await this.readText(response)) as unknown;
  }

  private async readText(response: HttpResponse): Promise<string> {
    return (response.body as Dispatcher.ResponseData['body']).text();
  }

  private async discard(response: HttpResponse): Promise<void> {
    await (response.body as Dispatcher.ResponseData['body']).dump().catch(() => undefined);
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
  private async problemError(status: number, body: Dispatcher.ResponseData['body']): Promise<DomainError> {
    const text = await body.text().catch(() => '');
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      // not JSON: handled below
    }
    const kind = kindForStatus(status);
    if (parsed && typeof parsed.code === 'string') {
      const extensions = Object.fromEntries(Object.entries(parsed).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
      const message = String(parsed.detail ?? parsed.title ?? `HTTP ${status}`);
      return new DomainError(kind, parsed.code, message, Object.keys(extensions).length > 0 ? extensions : undefined);
    }
    // OAuth error codes are lower-case words (`invalid_client`); Fastify's own `{error: 'Not Found'}` is not one.
    if (parsed && typeof parsed.error === 'string' && /^[a-z_]+$/.test(parsed.error) && status < 500) {
      return new DomainError(kind, parsed.error, String(parsed.error_description ?? parsed.error));
    }
    if (status >= 500) return this.unavailable(new Error(`HTTP ${status}`));
    return new DomainError(kind, `HTTP_${status}`, text.slice(0, 200) || `HTTP ${status}`);
  }
}

/**
 * The upload's chunks, as they are read (backpressure kept), restarting the call's deadline with each one and
 * moving on the deadline the client is bounded by (within).
 * A failure of the upload itself (the caller's stream) is reported to `sourceFailed`, told apart from the
 * transport giving up on the body (which destroys the stream too).
 */
async function* chunksMovingDeadline(
  upload: Readable,
  timer: NodeJS.Timeout,
  deadline: Deadline | undefined,
  sourceFailed: (error: unknown) => void,
): AsyncGenerator<Buffer> {
  const chunks = upload[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await chunks.next();
      } catch (error) {
        sourceFailed(error);
        throw error;
      }
      if (step.done) return;
      deadline?.progressed();
      timer.refresh();
      yield Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value as string);
    }
  } finally {
    await chunks.return?.();
  }
}
