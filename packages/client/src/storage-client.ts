import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import contentDisposition from 'content-disposition';
import { DomainError, STATUS_BY_KIND } from '@forms/contracts';
import type {
  Application,
  ApplicationInput,
  DataElement,
  DataValues,
  ErrorKind,
  Instance,
  InstanceCreate,
  InstanceEvent,
  InstanceEventList,
  InstanceEventType,
  InstanceQueryResponse,
  ProcessState,
  Substatus,
} from '@forms/contracts';

/**
 * API CONTRACT (to be implemented in this file). Typed client of the storage API (`/storage/api/v1`),
 * used by the app services and the CLI. Every call forwards the caller's bearer token.
 *
 * Errors: a problem+json answer from storage becomes a `DomainError` (from @forms/contracts) with the kind that
 * matches the status (404 -> not_found, 409 -> conflict, 412 -> precondition_failed, ...) and storage's own
 * `code` and `detail`, so a service can pass it on unchanged. A network failure or 5xx without problem body
 * becomes DomainError('unavailable', 'STORAGE_UNAVAILABLE'); a call that exceeds `timeoutMs` becomes
 * DomainError('timeout', 'STORAGE_TIMEOUT'). Streams are never buffered whole.
 */
export interface StorageClientOptions {
  /** e.g. `http://127.0.0.1:5101/storage/api/v1` */
  baseUrl: string;
  /** Per call, until response headers arrive. Default 10 000. */
  timeoutMs?: number;
}

export interface ContentOptions {
  contentType: string;
  filename?: string;
  /** Known length of the body, sent as Content-Length. */
  contentLength?: number;
}

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

export type InstanceQuery = Record<string, string | number | boolean | string[] | undefined>;

export interface StorageApi {
  getApplication(token: string, appId: string): Promise<Application | null>;
  registerApplication(token: string, appId: string, input: ApplicationInput): Promise<Application>;
  updateApplication(token: string, appId: string, input: ApplicationInput, expectedVersion?: number): Promise<Application>;

  createInstance(token: string, appId: string, body: InstanceCreate): Promise<Instance>;
  /** `instanceId` is `<partyId>/<guid>`. */
  getInstance(token: string, instanceId: string): Promise<Versioned<Instance>>;
  deleteInstance(token: string, instanceId: string, options?: { hard?: boolean }): Promise<void>;
  updateProcess(token: string, instanceId: string, process: ProcessState, expectedVersion?: number): Promise<Instance>;
  setSubstatus(token: string, instanceId: string, substatus: Substatus): Promise<Instance>;
  setDataValues(token: string, instanceId: string, values: DataValues): Promise<Instance>;
  confirmComplete(token: string, instanceId: string): Promise<Instance>;
  listEvents(token: string, instanceId: string, query?: { eventTypes?: InstanceEventType[]; from?: string; to?: string }): Promise<InstanceEvent[]>;
  queryInstances(token: string, query: InstanceQuery): Promise<InstanceQueryResponse>;
  /** Follows `next` links until the end. */
  queryAllInstances(token: string, query: InstanceQuery): AsyncIterable<Instance>;

  uploadData(token: string, instanceId: string, dataType: string, body: Readable | Buffer | string, options: ContentOptions): Promise<DataElement>;
  replaceData(
    token: string,
    instanceId: string,
    dataId: string,
    body: Readable | Buffer | string,
    options: ContentOptions & { expectedVersion?: number },
  ): Promise<DataElement>;
  downloadData(token: string, instanceId: string, dataId: string, options?: { range?: { start: number; end: number } }): Promise<DataDownload>;
  deleteData(token: string, instanceId: string, dataId: string, expectedVersion?: number): Promise<void>;
  /** Throws unless storage answers /ready with 200. */
  ready(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
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
const segments = (id: string) => id.split('/').map(encodeURIComponent).join('/');

const ifMatch = (version: number | undefined): Record<string, string> => (version === undefined ? {} : { 'if-match': `"${version}"` });

function toSearchParams(query: InstanceQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

interface Call {
  token?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  json?: unknown;
  content?: { body: Readable | Buffer | string; options: ContentOptions };
}

export class StorageClient implements StorageApi {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: StorageClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async getApplication(token: string, appId: string): Promise<Application | null> {
    try {
      return await this.json<Application>(`/applications/${segments(appId)}`, { token });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'APPLICATION_NOT_FOUND') return null;
      throw error;
    }
  }

  registerApplication(token: string, appId: string, input: ApplicationInput): Promise<Application> {
    return this.json(`/applications/${segments(appId)}`, { token, method: 'POST', json: input });
  }

  updateApplication(token: string, appId: string, input: ApplicationInput, expectedVersion?: number): Promise<Application> {
    return this.json(`/applications/${segments(appId)}`, { token, method: 'PUT', json: input, headers: ifMatch(expectedVersion) });
  }

  createInstance(token: string, appId: string, body: InstanceCreate): Promise<Instance> {
    return this.json(`/instances${toSearchParams({ appId })}`, { token, method: 'POST', json: body });
  }

  async getInstance(token: string, instanceId: string): Promise<Versioned<Instance>> {
    const response = await this.send(`/instances/${segments(instanceId)}`, { token });
    const value = (await this.readJson(response)) as Instance;
    return { value, version: parseEtag(response.headers.get('etag')) ?? value.version };
  }

  async deleteInstance(token: string, instanceId: string, options: { hard?: boolean } = {}): Promise<void> {
    const query = options.hard ? '?hard=true' : '';
    await this.discard(await this.send(`/instances/${segments(instanceId)}${query}`, { token, method: 'DELETE' }));
  }

  updateProcess(token: string, instanceId: string, process: ProcessState, expectedVersion?: number): Promise<Instance> {
    return this.json(`/instances/${segments(instanceId)}/process`, { token, method: 'PUT', json: process, headers: ifMatch(expectedVersion) });
  }

  setSubstatus(token: string, instanceId: string, substatus: Substatus): Promise<Instance> {
    return this.json(`/instances/${segments(instanceId)}/substatus`, { token, method: 'PUT', json: substatus });
  }

  setDataValues(token: string, instanceId: string, values: DataValues): Promise<Instance> {
    return this.json(`/instances/${segments(instanceId)}/datavalues`, { token, method: 'PUT', json: { values } });
  }

  confirmComplete(token: string, instanceId: string): Promise<Instance> {
    return this.json(`/instances/${segments(instanceId)}/complete`, { token, method: 'POST' });
  }

  async listEvents(
    token: string,
    instanceId: string,
    query: { eventTypes?: InstanceEventType[]; from?: string; to?: string } = {},
  ): Promise<InstanceEvent[]> {
    const list = await this.json<InstanceEventList>(`/instances/${segments(instanceId)}/events${toSearchParams(query)}`, { token });
    return list.instanceEvents;
  }

  queryInstances(token: string, query: InstanceQuery): Promise<InstanceQueryResponse> {
    return this.json(`/instances${toSearchParams(query)}`, { token });
  }

  async *queryAllInstances(token: string, query: InstanceQuery): AsyncIterable<Instance> {
    let path: string | null = `/instances${toSearchParams(query)}`;
    while (path) {
      const page: InstanceQueryResponse = await this.json(path, { token });
      yield* page.instances;
      path = page.next ? this.relativeToBase(page.next) : null;
    }
  }

  uploadData(
    token: string,
    instanceId: string,
    dataType: string,
    body: Readable | Buffer | string,
    options: ContentOptions,
  ): Promise<DataElement> {
    const path = `/instances/${segments(instanceId)}/data${toSearchParams({ dataType })}`;
    return this.json(path, { token, method: 'POST', content: { body, options } });
  }

  replaceData(
    token: string,
    instanceId: string,
    dataId: string,
    body: Readable | Buffer | string,
    options: ContentOptions & { expectedVersion?: number },
  ): Promise<DataElement> {
    const path = `/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`;
    return this.json(path, { token, method: 'PUT', content: { body, options }, headers: ifMatch(options.expectedVersion) });
  }

  async downloadData(
    token: string,
    instanceId: string,
    dataId: string,
    options: { range?: { start: number; end: number } } = {},
  ): Promise<DataDownload> {
    const { range } = options;
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    const response = await this.send(`/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`, { token, headers });
    const filename = filenameOf(response.headers.get('content-disposition'));
    return {
      body: response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      size: Number(response.headers.get('content-length') ?? 0),
      version: parseEtag(response.headers.get('etag')) ?? 0,
      ...(filename !== undefined && { filename }),
    };
  }

  async deleteData(token: string, instanceId: string, dataId: string, expectedVersion?: number): Promise<void> {
    const path = `/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`;
    await this.discard(await this.send(path, { token, method: 'DELETE', headers: ifMatch(expectedVersion) }));
  }

  async ready(): Promise<void> {
    // /ready is served at the root of the service, not under the API prefix.
    const response = await this.send(new URL('/ready', this.baseUrl).toString(), {});
    await this.discard(response);
  }

  /** The path and query of a storage link (its host may be storage's public name), relative to baseUrl. */
  private relativeToBase(link: string): string {
    const url = new URL(link, this.baseUrl);
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
    return `${path}${url.search}`;
  }

  private async json<T>(path: string, call: Call): Promise<T> {
    return (await this.readJson(await this.send(path, call))) as T;
  }

  /**
   * One request. The timer only runs until the response headers arrive, so a long download is not cut off;
   * non-2xx answers are turned into DomainErrors here.
   */
  private async send(pathOrUrl: string, call: Call): Promise<Response> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const headers: Record<string, string> = { ...call.headers };
    if (call.token) headers.authorization = `Bearer ${call.token}`;
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
      // A failing upload stream is the caller's own error, not storage's.
      const failure = controller.signal.aborted ? this.timeoutError() : (upload?.errored ?? unavailable(error));
      upload?.destroy();
      throw failure;
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const error = await problemError(response);
      // Storage may refuse an upload before reading all of it (413, 415): stop sending the rest.
      upload?.destroy();
      throw error;
    }
    return response;
  }

  private async readJson(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (error) {
      throw unavailable(error);
    }
  }

  private async discard(response: Response): Promise<void> {
    await response.body?.cancel().catch(() => undefined);
  }

  private timeoutError(): DomainError {
    return new DomainError('timeout', 'STORAGE_TIMEOUT', `Storage did not answer within ${this.timeoutMs} ms.`);
  }
}

function unavailable(error: unknown): DomainError {
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new DomainError('unavailable', 'STORAGE_UNAVAILABLE', `Storage is unavailable: ${cause}`);
}

/** A problem+json answer keeps storage's own code and detail; anything else is a broken or missing storage. */
async function problemError(response: Response): Promise<DomainError> {
  const text = await response.text().catch(() => '');
  let problem: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { code?: unknown }).code === 'string') problem = parsed as Record<string, unknown>;
  } catch {
    // not JSON: handled below
  }
  if (!problem) {
    if (response.status >= 500) return unavailable(new Error(`HTTP ${response.status}`));
    return new DomainError(kindForStatus(response.status), `HTTP_${response.status}`, text.slice(0, 200) || response.statusText);
  }
  const extensions = Object.fromEntries(Object.entries(problem).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
  const message = String(problem.detail ?? problem.title ?? `HTTP ${response.status}`);
  return new DomainError(
    kindForStatus(response.status),
    problem.code as string,
    message,
    Object.keys(extensions).length > 0 ? extensions : undefined,
  );
}

function filenameOf(header: string | null): string | undefined {
  if (!header) return undefined;
  try {
    return contentDisposition.parse(header).parameters.filename;
  } catch {
    return undefined; // a malformed header loses only the filename, not the download
  }
}
