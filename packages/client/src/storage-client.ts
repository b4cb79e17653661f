import type { Readable } from 'node:stream';
import { DomainError } from '@forms/contracts';
import type {
  Application,
  ApplicationInput,
  DataElement,
  DataElementList,
  DataElementUpdate,
  DataValues,
  Instance,
  InstanceCreate,
  InstanceEvent,
  InstanceEventInput,
  InstanceEventList,
  InstanceEventType,
  InstanceQueryResponse,
  PresentationTexts,
  ProcessHistoryItem,
  ProcessState,
  ReadStatus,
  Substatus,
} from '@forms/contracts';
import { HttpClient, type ContentOptions, type DataDownload, type Versioned } from './http';
import { ifMatch, segments, toSearchParams, type QueryValues } from './http-values';
import { creationRequest } from './creation-request';
import type { Deadline } from './deadline';
import { multipartCreation, type InitialDataPart } from './multipart';

export { kindForStatus, type ContentOptions, type DataDownload, type Versioned } from './http';
export { parseEtag } from './http-values';
export type { InitialDataPart } from './multipart';

/**
 * Typed client of the storage API (`/storage/api/v1`),
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
  /** Deadline of each call (connect, headers and a JSON body; streamed bodies may not stall for longer). Default 10 000. */
  timeoutMs?: number;
  /**
   * An app service's own token (fresh on each call), sent beside the caller's bearer token so storage knows the
   * app acts for that caller. Storage refuses instance creation, process changes and app-owned data otherwise.
   */
  accessToken?: () => Promise<string>;
}

export type InstanceQuery = QueryValues;

export interface StorageApi {
  getApplication(token: string, appId: string): Promise<Application | null>;
  registerApplication(token: string, appId: string, input: ApplicationInput): Promise<Application>;
  updateApplication(token: string, appId: string, input: ApplicationInput, expectedVersion?: number): Promise<Application>;
  /** Every registered app (anonymous in storage: `token` may be omitted). */
  listApplications(token?: string): Promise<Application[]>;
  /** Retires the app (validTo now), or with `hard` removes it while it has no instances; answers with it. */
  deleteApplication(token: string, appId: string, options?: { hard?: boolean }): Promise<Application>;

  /**
   * Creates the instance and, with `data`, its initial data elements in one request: storage stores all
   * of it or nothing. Small data in memory goes inline in JSON, anything else as multipart (streamed). With
   * `body.instanceGuid`, repeating the call (after a timeout, say) answers with the instance the first call
   * created instead of creating a second one.
   */
  createInstance(
    token: string,
    appId: string,
    body: InstanceCreate,
    data?: Iterable<InitialDataPart> | AsyncIterable<InitialDataPart>,
  ): Promise<Instance>;
  /** `instanceId` is `<partyId>/<guid>`. */
  getInstance(token: string, instanceId: string): Promise<Versioned<Instance>>;
  /** Soft delete, or with `hard` Altinn's hard delete (marked, removed by storage's cleanup job later); answers with the instance. */
  deleteInstance(token: string, instanceId: string, options?: { hard?: boolean }): Promise<Instance>;
  /** Altinn's undelete: the owner restores a soft-deleted instance. */
  restoreInstance(token: string, instanceId: string): Promise<void>;
  setReadStatus(token: string, instanceId: string, status: ReadStatus): Promise<Instance>;
  setPresentationTexts(token: string, instanceId: string, texts: PresentationTexts): Promise<Instance>;
  updateProcess(token: string, instanceId: string, process: ProcessState, expectedVersion?: number): Promise<Instance>;
  setSubstatus(token: string, instanceId: string, substatus: Substatus): Promise<Instance>;
  setDataValues(token: string, instanceId: string, values: DataValues): Promise<Instance>;
  confirmComplete(token: string, instanceId: string): Promise<Instance>;
  listEvents(token: string, instanceId: string, query?: { eventTypes?: InstanceEventType[]; from?: string; to?: string }): Promise<InstanceEvent[]>;
  /** The app records an event of its own (e.g. `Signed`). */
  recordEvent(token: string, instanceId: string, event: InstanceEventInput): Promise<InstanceEvent>;
  getEvent(token: string, instanceId: string, eventId: string): Promise<InstanceEvent>;
  getProcessHistory(token: string, instanceId: string): Promise<ProcessHistoryItem[]>;
  queryInstances(token: string, query: InstanceQuery): Promise<InstanceQueryResponse>;
  /** Follows `next` links until the end; oldest change first unless `query.order` says otherwise. */
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
  /** Answers with the deleted element. */
  deleteData(token: string, instanceId: string, dataId: string, expectedVersion?: number): Promise<DataElement>;
  listDataElements(token: string, instanceId: string): Promise<DataElement[]>;
  /** Tags, refs, references, metadata, userDefinedMetadata, filename, locked. */
  updateDataElement(token: string, instanceId: string, dataId: string, update: DataElementUpdate, expectedVersion?: number): Promise<DataElement>;
  setDataLock(token: string, instanceId: string, dataId: string, locked: boolean): Promise<DataElement>;
  /** Throws unless storage answers /ready with 200. */
  ready(): Promise<void>;
  /**
   * This client with each call bounded also by what is left of `deadline` (one deadline for all the calls of an
   * incoming request); upload progress moves it on. With `requestId` (the incoming request's), each call carries it
   * as `x-request-id`, so storage logs its part of the request under the same id.
   */
  within(deadline: Deadline, requestId?: string): StorageApi;
}

export class StorageClient implements StorageApi {
  private readonly http: HttpClient;

  constructor(options: StorageClientOptions) {
    this.http = new HttpClient(options, { name: 'Storage', codePrefix: 'STORAGE' });
  }

  within(deadline: Deadline, requestId?: string): StorageApi {
    // A view of this object rather than a new client: one wrapped by Object.create (a test's or a spy's
    // overrides) keeps its own methods.
    const bounded = Object.create(this) as { http: HttpClient };
    bounded.http = this.http.within(deadline, requestId);
    return bounded as unknown as StorageApi;
  }

  async getApplication(token: string, appId: string): Promise<Application | null> {
    try {
      return await this.http.json<Application>(`/applications/${segments(appId)}`, { token });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'APPLICATION_NOT_FOUND') return null;
      throw error;
    }
  }

  registerApplication(token: string, appId: string, input: ApplicationInput): Promise<Application> {
    return this.http.json(`/applications/${segments(appId)}`, { token, method: 'POST', json: input });
  }

  updateApplication(token: string, appId: string, input: ApplicationInput, expectedVersion?: number): Promise<Application> {
    return this.http.json(`/applications/${segments(appId)}`, { token, method: 'PUT', json: input, headers: ifMatch(expectedVersion) });
  }

  async listApplications(token?: string): Promise<Application[]> {
    return (await this.http.json<{ applications: Application[] }>('/applications', token ? { token } : {})).applications;
  }

  deleteApplication(token: string, appId: string, options: { hard?: boolean } = {}): Promise<Application> {
    return this.http.json(`/applications/${segments(appId)}${options.hard ? '?hard=true' : ''}`, { token, method: 'DELETE' });
  }

  async createInstance(
    token: string,
    appId: string,
    body: InstanceCreate,
    data?: Iterable<InitialDataPart> | AsyncIterable<InitialDataPart>,
  ): Promise<Instance> {
    const path = `/instances${toSearchParams({ appId })}`;
    const multipart = async (request: { body: Buffer | Readable; contentType: string }) =>
      this.http.json<Instance>(path, { token, method: 'POST', content: { body: request.body, options: { contentType: request.contentType } } });
    if (data === undefined) return this.http.json(path, { token, method: 'POST', json: body });
    const request = await creationRequest(body, data);
    if (!('json' in request)) return multipart(request);
    try {
      return await this.http.json<Instance>(path, { token, method: 'POST', json: request.json });
    } catch (error) {
      // A storage whose JSON limit (MAX_JSON_BODY_KB) is below the inline data: the same parts as multipart.
      if (!(error instanceof DomainError && error.code === 'BODY_TOO_LARGE')) throw error;
      return multipart(await multipartCreation(body, request.parts));
    }
  }

  getInstance(token: string, instanceId: string): Promise<Versioned<Instance>> {
    return this.http.versioned<Instance>(`/instances/${segments(instanceId)}`, { token }, (value) => value.version);
  }

  deleteInstance(token: string, instanceId: string, options: { hard?: boolean } = {}): Promise<Instance> {
    const query = options.hard ? '?hard=true' : '';
    return this.http.json(`/instances/${segments(instanceId)}${query}`, { token, method: 'DELETE' });
  }

  restoreInstance(token: string, instanceId: string): Promise<void> {
    return this.http.empty(`/sbl/instances/${segments(instanceId)}/undelete`, { token, method: 'PUT' });
  }

  setReadStatus(token: string, instanceId: string, status: ReadStatus): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/readstatus${toSearchParams({ status })}`, { token, method: 'PUT' });
  }

  setPresentationTexts(token: string, instanceId: string, texts: PresentationTexts): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/presentationtexts`, { token, method: 'PUT', json: { texts } });
  }

  updateProcess(token: string, instanceId: string, process: ProcessState, expectedVersion?: number): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/process`, { token, method: 'PUT', json: process, headers: ifMatch(expectedVersion) });
  }

  setSubstatus(token: string, instanceId: string, substatus: Substatus): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/substatus`, { token, method: 'PUT', json: substatus });
  }

  setDataValues(token: string, instanceId: string, values: DataValues): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/datavalues`, { token, method: 'PUT', json: { values } });
  }

  confirmComplete(token: string, instanceId: string): Promise<Instance> {
    return this.http.json(`/instances/${segments(instanceId)}/complete`, { token, method: 'POST' });
  }

  async listEvents(
    token: string,
    instanceId: string,
    query: { eventTypes?: InstanceEventType[]; from?: string; to?: string } = {},
  ): Promise<InstanceEvent[]> {
    const list = await this.http.json<InstanceEventList>(`/instances/${segments(instanceId)}/events${toSearchParams(query)}`, { token });
    return list.instanceEvents;
  }

  recordEvent(token: string, instanceId: string, event: InstanceEventInput): Promise<InstanceEvent> {
    return this.http.json(`/instances/${segments(instanceId)}/events`, { token, method: 'POST', json: event });
  }

  getEvent(token: string, instanceId: string, eventId: string): Promise<InstanceEvent> {
    return this.http.json(`/instances/${segments(instanceId)}/events/${encodeURIComponent(eventId)}`, { token });
  }

  async getProcessHistory(token: string, instanceId: string): Promise<ProcessHistoryItem[]> {
    return (await this.http.json<{ processHistory: ProcessHistoryItem[] }>(`/instances/${segments(instanceId)}/process/history`, { token })).processHistory;
  }

  queryInstances(token: string, query: InstanceQuery): Promise<InstanceQueryResponse> {
    return this.http.json(`/instances${toSearchParams(query)}`, { token });
  }

  async *queryAllInstances(token: string, query: InstanceQuery): AsyncIterable<Instance> {
    // Oldest change first unless told otherwise: that walk never misses an instance that changes meanwhile
    // (storage's default, as Altinn's, is newest first).
    let path: string | null = `/instances${toSearchParams({ order: 'asc:lastChanged', ...query })}`;
    while (path) {
      const page: InstanceQueryResponse = await this.http.json(path, { token });
      yield* page.instances;
      path = page.next ? this.http.relativeToBase(page.next) : null;
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
    return this.http.json(path, { token, method: 'POST', content: { body, options } });
  }

  replaceData(
    token: string,
    instanceId: string,
    dataId: string,
    body: Readable | Buffer | string,
    options: ContentOptions & { expectedVersion?: number },
  ): Promise<DataElement> {
    const path = `/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`;
    return this.http.json(path, { token, method: 'PUT', content: { body, options }, headers: ifMatch(options.expectedVersion) });
  }

  downloadData(
    token: string,
    instanceId: string,
    dataId: string,
    options: { range?: { start: number; end: number } } = {},
  ): Promise<DataDownload> {
    const { range } = options;
    const headers: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    return this.http.download(`/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`, { token, headers });
  }

  deleteData(token: string, instanceId: string, dataId: string, expectedVersion?: number): Promise<DataElement> {
    const path = `/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}`;
    return this.http.json(path, { token, method: 'DELETE', headers: ifMatch(expectedVersion) });
  }

  async listDataElements(token: string, instanceId: string): Promise<DataElement[]> {
    return (await this.http.json<DataElementList>(`/instances/${segments(instanceId)}/dataelements`, { token })).dataElements;
  }

  updateDataElement(token: string, instanceId: string, dataId: string, update: DataElementUpdate, expectedVersion?: number): Promise<DataElement> {
    const path = `/instances/${segments(instanceId)}/dataelements/${encodeURIComponent(dataId)}`;
    return this.http.json(path, { token, method: 'PUT', json: update, headers: ifMatch(expectedVersion) });
  }

  setDataLock(token: string, instanceId: string, dataId: string, locked: boolean): Promise<DataElement> {
    return this.http.json(`/instances/${segments(instanceId)}/data/${encodeURIComponent(dataId)}/lock`, { token, method: locked ? 'PUT' : 'DELETE' });
  }

  ready(): Promise<void> {
    // /ready is served at the root of the service, not under the API prefix.
    return this.http.empty(new URL('/ready', this.http.baseUrl).toString(), {});
  }
}
