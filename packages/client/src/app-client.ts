import type { DataElement, DataValues, Instance, InstanceOwner, KeyValueEntry, ProcessHistoryItem, ProcessState, SimpleInstance } from '@forms/contracts';
import type {
  AppOption,
  CalculationResult,
  CodeList,
  CodeListRequest,
  DataPatchResponse,
  DataPatchResponseMultiple,
  FormInput,
  FormWriteOptions,
  InstanceFileScanResult,
  JsonPatchOperation,
  TextResource,
  ValidationIssue,
} from './app-types';
import { multipartCreation } from './multipart';

/** Altinn's ProcessHistoryItem (as the app answers it, from storage) and SimpleInstance (a party's active instances). */
export type { ProcessHistoryItem, SimpleInstance };
import { HttpClient, type Body, type ContentOptions, type DataDownload, type HttpResponse, type Versioned } from './http';
import { ifMatch, parseEtag, segments, toSearchParams } from './http-values';

/**
 * Typed client of one app's API (`<baseUrl>/<org>/<app>`), for end-user systems, integrations and the CLI.
 * Errors are `DomainError`s exactly as with StorageClient: the app's problem+json `code` and `detail` are kept
 * (validation issues of a refused `process/next` are in `extensions.validationIssues`); an unreachable app or a
 * 5xx without problem body is DomainError('unavailable', 'APP_UNAVAILABLE'), a call slower than `timeoutMs`
 * DomainError('timeout', 'APP_TIMEOUT'). Streams are never buffered whole.
 */
export interface AppClientOptions {
  /** Where the app service listens, e.g. `http://127.0.0.1:5110`. */
  baseUrl: string;
  /** `<org>/<app>`, e.g. `nav/child-benefit`. */
  appId: string;
  /** A bearer token, or a function giving one for each call (e.g. `TokenClient.tokenProvider()`). */
  token: string | (() => string | Promise<string>);
  /** Deadline of each call (connect, headers and a JSON body; streamed bodies may not stall for longer). Default 10 000. */
  timeoutMs?: number;
}

/** What a caller may set when creating an instance through the app. */
export interface InstanceTemplate {
  instanceOwner?: Partial<InstanceOwner>;
  dueBefore?: string;
  visibleAfter?: string;
  dataValues?: DataValues;
}

/** A data element sent along with a new instance (multipart instantiation), named by its data type. */
export interface DataPart {
  dataType: string;
  contentType: string;
  body: Body;
  /** Default: the data type. */
  filename?: string;
}

const MULTIPART_DATA_LIMIT = 50;

export class AppClient {
  readonly appId: string;
  private readonly http: HttpClient;
  private readonly tokenSource: () => string | Promise<string>;

  constructor(options: AppClientOptions) {
    if (!/^[a-z0-9-]+\/[a-z0-9-]+$/i.test(options.appId)) throw new Error(`appId must be <org>/<app>, not "${options.appId}"`);
    this.appId = options.appId;
    const base = `${options.baseUrl.replace(/\/+$/, '')}/${segments(options.appId)}`;
    this.http = new HttpClient({ baseUrl: base, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) }, { name: 'The app service', codePrefix: 'APP' });
    const { token } = options;
    this.tokenSource = typeof token === 'string' ? () => token : token;
  }

  /**
   * Creates an instance for `partyId` (default: the caller's own party). With `data`, one multipart request
   * carries the template and the data elements, streamed in order; the app creates all of it or nothing.
   */
  async createInstance(template: InstanceTemplate = {}, options: { partyId?: string; data?: DataPart[] } = {}): Promise<Instance> {
    const path = `/instances${toSearchParams({ instanceOwnerPartyId: options.partyId })}`;
    const token = await this.token();
    if (!options.data || options.data.length === 0) return this.http.json(path, { token, method: 'POST', json: template });
    if (options.data.length > MULTIPART_DATA_LIMIT - 1) throw new Error(`At most ${MULTIPART_DATA_LIMIT - 1} data parts`);
    // Always file parts, named: a part without a filename would be a form field, which the app limits to 64 KB.
    const parts = options.data.map((part) => ({ ...part, filename: part.filename ?? part.dataType }));
    const { body, contentType } = await multipartCreation(template, parts);
    return this.http.json(path, { token, method: 'POST', content: { body, options: { contentType } } });
  }

  /**
   * Creates an instance with form fields prefilled (Altinn's `POST instances/create`): `prefill` maps dotted field
   * paths to values, set on the auto-created form data. The owner is `instanceOwner.partyId`.
   */
  async createInstanceWithPrefill(request: InstanceTemplate & { prefill?: Record<string, unknown>; sourceInstanceId?: string }): Promise<Instance> {
    return this.http.json('/instances/create', { token: await this.token(), method: 'POST', json: request });
  }

  /**
   * Starts a new instance as a copy of an archived one of the same owner (Altinn's `sourceInstanceId`): the app copies
   * the form data of its first task, without the fields its `copyInstanceSettings` exclude, and the attachments if
   * they say so; `prefill` is set on the copied forms.
   */
  async copyInstance(sourceInstanceId: string, prefill?: Record<string, unknown>): Promise<Instance> {
    const [partyId] = sourceInstanceId.split('/');
    return this.createInstanceWithPrefill({ instanceOwner: { ...(partyId && { partyId }) }, sourceInstanceId, ...(prefill && { prefill }) });
  }

  /** The instance (its `version` is the one to send as `expectedVersion`). */
  async getInstance(instanceId: string): Promise<Instance> {
    return this.http.json<Instance>(this.instancePath(instanceId), { token: await this.token() });
  }

  /** The party's instances of this app whose process has not ended. */
  async activeInstances(partyId: string): Promise<SimpleInstance[]> {
    return this.http.json(`/instances/${encodeURIComponent(partyId)}/active`, { token: await this.token() });
  }

  /** The org confirms it has downloaded the instance (idempotent). */
  async completeInstance(instanceId: string): Promise<Instance> {
    return this.http.json(`${this.instancePath(instanceId)}/complete`, { token: await this.token(), method: 'POST' });
  }

  async setSubstatus(instanceId: string, substatus: { label: string; description?: string }): Promise<Instance> {
    return this.http.json(`${this.instancePath(instanceId)}/substatus`, { token: await this.token(), method: 'PUT', json: substatus });
  }

  /** Deletes the instance (softly; `hard` for the org: marked, removed by storage later); the instance as deleted. */
  async deleteInstance(instanceId: string, options: { hard?: boolean } = {}): Promise<Instance> {
    const query = options.hard ? '?hard=true' : '';
    return this.http.json(`${this.instancePath(instanceId)}${query}`, { token: await this.token(), method: 'DELETE' });
  }

  /** Adds form data; answers the new data element (read the calculated data with `getFormData`). */
  async addFormData(instanceId: string, dataType: string, data: FormInput, options: FormWriteOptions = {}): Promise<DataElement> {
    const path = `${this.instancePath(instanceId)}/data${toSearchParams({ dataType })}`;
    return this.http.json(path, { token: await this.token(), method: 'POST', content: formContent(data, options) });
  }

  /** Form data as JSON, with its version (for `expectedVersion` of a later write). */
  async getFormData<T = Record<string, unknown>>(instanceId: string, dataId: string): Promise<Versioned<T>> {
    return this.http.versioned<T>(this.dataPath(instanceId, dataId), { token: await this.token(), headers: { accept: 'application/json' } });
  }

  /** Form data rendered as XML. */
  async getFormDataXml(instanceId: string, dataId: string): Promise<Versioned<string>> {
    const { text, response } = await this.http.text(this.dataPath(instanceId, dataId), { token: await this.token(), headers: { accept: 'application/xml' } });
    return { value: text, version: versionOf(response, 0) };
  }

  /** Replaces form data; with `expectedVersion` only if nobody changed it since (412 otherwise). */
  async putFormData(instanceId: string, dataId: string, data: FormInput, options: FormWriteOptions & { expectedVersion?: number } = {}): Promise<CalculationResult> {
    return this.http.json(this.dataPath(instanceId, dataId), {
      token: await this.token(),
      method: 'PUT',
      content: formContent(data, options),
      headers: ifMatch(options.expectedVersion),
    });
  }

  /**
   * Changes form data with JSON Patch; `test` operations and `expectedVersion` (If-Match) guard against concurrent
   * changes. Answers the new model, the validation issues of the current task (less `ignoredValidators`) and the instance.
   */
  async patchFormData<T = Record<string, unknown>>(
    instanceId: string,
    dataId: string,
    operations: JsonPatchOperation[],
    options: { expectedVersion?: number; ignoredValidators?: string[] } = {},
  ): Promise<DataPatchResponse<T>> {
    return this.http.json(this.dataPath(instanceId, dataId), {
      token: await this.token(),
      method: 'PATCH',
      json: { patch: operations, ...(options.ignoredValidators && { ignoredValidators: options.ignoredValidators }) },
      headers: ifMatch(options.expectedVersion),
    });
  }

  /** JSON Patch on several form data elements in one request. */
  async patchFormDataMultiple(
    instanceId: string,
    patches: Array<{ dataElementId: string; patch: JsonPatchOperation[] }>,
    options: { ignoredValidators?: string[] } = {},
  ): Promise<DataPatchResponseMultiple> {
    return this.http.json(`${this.instancePath(instanceId)}/data`, {
      token: await this.token(),
      method: 'PATCH',
      json: { patches, ...(options.ignoredValidators && { ignoredValidators: options.ignoredValidators }) },
    });
  }

  /** Streams an attachment to the app (which checks it and passes it on to storage). Give `contentLength` when known. */
  async uploadAttachment(instanceId: string, dataType: string, body: Body, options: ContentOptions): Promise<DataElement> {
    const path = `${this.instancePath(instanceId)}/data${toSearchParams({ dataType })}`;
    return this.http.json(path, { token: await this.token(), method: 'POST', content: { body, options } });
  }

  /** Any data element as a stream: attachments as stored, form data as JSON. */
  async downloadData(instanceId: string, dataId: string): Promise<DataDownload> {
    return this.http.download(this.dataPath(instanceId, dataId), { token: await this.token() });
  }

  async deleteData(instanceId: string, dataId: string, expectedVersion?: number): Promise<void> {
    return this.http.empty(this.dataPath(instanceId, dataId), { token: await this.token(), method: 'DELETE', headers: ifMatch(expectedVersion) });
  }

  /** The data element's tags (Altinn's TagsList). */
  async dataTags(instanceId: string, dataId: string): Promise<string[]> {
    return (await this.http.json<{ tags: string[] }>(`${this.dataPath(instanceId, dataId)}/tags`, { token: await this.token() })).tags;
  }

  /** Adds a tag (letters, `-` and `_`); answers the element's tags. Adding one already there changes nothing. */
  async addDataTag(instanceId: string, dataId: string, tag: string): Promise<string[]> {
    return (await this.http.json<{ tags: string[] }>(`${this.dataPath(instanceId, dataId)}/tags`, { token: await this.token(), method: 'POST', json: tag })).tags;
  }

  /** Removes a tag; removing one not there changes nothing. */
  async removeDataTag(instanceId: string, dataId: string, tag: string): Promise<void> {
    return this.http.empty(`${this.dataPath(instanceId, dataId)}/tags/${encodeURIComponent(tag)}`, { token: await this.token(), method: 'DELETE' });
  }

    /** The data element's user-defined metadata (Altinn's UserDefinedMetadataDto list). */
  async userDefinedMetadata(instanceId: string, dataId: string): Promise<KeyValueEntry[]> {
    const path = `${this.dataPath(instanceId, dataId)}/user-defined-metadata`;
    return (await this.http.json<{ userDefinedMetadata: KeyValueEntry[] }>(path, { token: await this.token() })).userDefinedMetadata;
  }

  /** Replaces it: each key once, only the keys the data type allows (`allowedKeysForUserDefinedMetadata`). */
  async setUserDefinedMetadata(instanceId: string, dataId: string, entries: KeyValueEntry[]): Promise<KeyValueEntry[]> {
    const path = `${this.dataPath(instanceId, dataId)}/user-defined-metadata`;
    return (await this.http.json<{ userDefinedMetadata: KeyValueEntry[] }>(path, { token: await this.token(), method: 'PUT', json: { userDefinedMetadata: entries } })).userDefinedMetadata;
  }

    /** Validation of the current task (conflict PROCESS_ENDED once the process has ended). */
  async validate(instanceId: string): Promise<ValidationIssue[]> {
    return this.http.json(`${this.instancePath(instanceId)}/validate`, { token: await this.token() });
  }

  /** Validation of one data element in the current task. */
  async validateDataElement(instanceId: string, dataId: string): Promise<ValidationIssue[]> {
    return this.http.json(`${this.dataPath(instanceId, dataId)}/validate`, { token: await this.token() });
  }

  async getProcess(instanceId: string): Promise<Versioned<ProcessState>> {
    return this.http.versioned<ProcessState>(`${this.instancePath(instanceId)}/process`, { token: await this.token() });
  }

  /**
   * Completes the current task. A data task with validation errors is refused: conflict, `VALIDATION_FAILED`.
   * With `currentTask` (the task the caller means to complete) a repeated call is refused (conflict,
   * `TASK_MISMATCH`) instead of completing the task after it.
   */
  async nextProcess(instanceId: string, options: { expectedVersion?: number; currentTask?: string; action?: string } = {}): Promise<ProcessState> {
    const query = options.currentTask !== undefined ? `?currentTask=${encodeURIComponent(options.currentTask)}` : '';
    return this.http.json(`${this.instancePath(instanceId)}/process/next${query}`, {
      token: await this.token(),
      method: 'PUT',
      json: options.action !== undefined ? { action: options.action } : {},
      headers: ifMatch(options.expectedVersion),
    });
  }

  /**
   * Completes task after task to the end (Altinn's completeProcess), each as `nextProcess` would; stops with conflict
   * `VALIDATION_FAILED` at the first task that cannot be completed (those before it stay completed).
   */
  async completeProcess(instanceId: string): Promise<ProcessState> {
    return this.http.json(`${this.instancePath(instanceId)}/process/completeProcess`, { token: await this.token(), method: 'PUT' });
  }

  /** Where completing the current task leads (the next task or end event), by the current form data. */
  async nextElements(instanceId: string): Promise<string[]> {
    return this.http.json(`${this.instancePath(instanceId)}/process/next`, { token: await this.token() });
  }

  async processHistory(instanceId: string): Promise<ProcessHistoryItem[]> {
    const body = await this.http.json<{ processHistory: ProcessHistoryItem[] }>(`${this.instancePath(instanceId)}/process/history`, {
      token: await this.token(),
    });
    return body.processHistory;
  }

  /** The malware scan state of the instance's files, each and as a whole (`Infected`, `Pending`, `Clean`, `NotApplicable`). */
  async fileScanResult(instanceId: string): Promise<InstanceFileScanResult> {
    return this.http.json(`${this.instancePath(instanceId)}/filescanresult`, { token: await this.token() });
  }

  /** The app's texts in one language (public). */
  async texts(language: string): Promise<TextResource> {
    return this.http.json(`/api/v1/texts/${encodeURIComponent(language)}`, {});
  }

  /** The languages the app has texts in (public). */
  async languages(): Promise<string[]> {
    return (await this.http.json<Array<{ language: string }>>('/api/v1/applicationlanguages', {})).map((entry) => entry.language);
  }

  /** A public code list (`options/<id>.json`, or made by the app's rules); not found: `OPTIONS_NOT_FOUND`. */
  async codeList(optionsId: string, request: CodeListRequest = {}): Promise<CodeList> {
    return this.codeListAt(`/api/options/${encodeURIComponent(optionsId)}`, request, undefined);
  }

  /** A code list drawn from an instance, for those who may read it. */
  async instanceCodeList(instanceId: string, optionsId: string, request: CodeListRequest = {}): Promise<CodeList> {
    return this.codeListAt(`${this.instancePath(instanceId)}/options/${encodeURIComponent(optionsId)}`, request, await this.token());
  }

  /** Runs the app's calculation on form data without an instance; answers the calculated model. */
  async calculate<T = Record<string, unknown>>(dataType: string, data: object, options: { partyId?: string } = {}): Promise<T> {
    return this.http.json(`/v1/data${toSearchParams({ dataType, partyId: options.partyId })}`, { token: await this.token(), method: 'POST', json: data });
  }

  /** Validates form data against the model and the app's rules without an instance. */
  async validateData(dataType: string, data: object, options: { partyId?: string } = {}): Promise<ValidationIssue[]> {
    return this.http.json(`/v1/data/validate${toSearchParams({ dataType, partyId: options.partyId })}`, {
      token: await this.token(),
      method: 'POST',
      json: data,
    });
  }

  /** A prefilled, calculated model without an instance. */
  async prefill<T = Record<string, unknown>>(dataType: string, options: { partyId?: string } = {}): Promise<T> {
    return this.http.json(`/v1/data${toSearchParams({ dataType, partyId: options.partyId })}`, { token: await this.token() });
  }

  private async codeListAt(path: string, request: CodeListRequest, token: string | undefined): Promise<CodeList> {
    const query = toSearchParams({ ...request.query, language: request.language });
    const { value, response } = await this.http.jsonWithResponse<AppOption[]>(`${path}${query}`, token === undefined ? {} : { token });
    return { options: value, parameters: downstreamParameters(response.header('altinn-downstreamparameters')) };
  }

  private async token(): Promise<string> {
    return this.tokenSource();
  }

  private instancePath(instanceId: string): string {
    if (!/^[^/]+\/[^/]+$/.test(instanceId)) throw new Error(`instanceId must be <partyId>/<instanceGuid>, not "${instanceId}"`);
    return `/instances/${segments(instanceId)}`;
  }

  private dataPath(instanceId: string, dataId: string): string {
    return `${this.instancePath(instanceId)}/data/${encodeURIComponent(dataId)}`;
  }
}

const versionOf = (response: HttpResponse, fallback: number): number => parseEtag(response.header('etag')) ?? fallback;

function formContent(data: FormInput, options: FormWriteOptions): { body: string; options: ContentOptions } {
  const body = typeof data === 'string' ? data : JSON.stringify(data);
  const contentType = options.contentType ?? (typeof data === 'string' && data.trimStart().startsWith('<') ? 'application/xml' : 'application/json');
  return { body, options: { contentType } };
}

/** Altinn's `Altinn-DownstreamParameters`: `name=value` pairs, URL-encoded, comma-separated. */
function downstreamParameters(header: string | undefined): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const pair of header ? header.split(',') : []) {
    const [name = '', value = ''] = pair.split('=', 2);
    if (name) parameters[decodeURIComponent(name)] = decodeURIComponent(value);
  }
  return parameters;
}
