/**
 * A typed client for Altinn 3's public app and storage APIs, written from Altinn's own model names
 * (Altinn.Platform.Storage.Interface.Models and Altinn.App.Core's models) and its documented routes, the way an
 * end-user system or an org's integration written for Altinn would look. It deliberately imports nothing from
 * this platform: if the platform's wire format drifts from Altinn's, the compatibility test using this breaks.
 */

// ---- Altinn.Platform.Storage.Interface.Models ----

export interface InstanceOwner {
  partyId?: string | null;
  personNumber?: string | null;
  organisationNumber?: string | null;
  username?: string | null;
}

export interface ValidationStatus {
  timestamp?: string | null;
  canCompleteTask: boolean;
}

export interface ProcessElementInfo {
  flow?: number | null;
  started?: string | null;
  elementId?: string | null;
  name?: string | null;
  altinnTaskType?: string | null;
  ended?: string | null;
  validated?: ValidationStatus | null;
  flowType?: string | null;
}

export interface ProcessState {
  started?: string | null;
  startEvent?: string | null;
  currentTask?: ProcessElementInfo | null;
  ended?: string | null;
  endEvent?: string | null;
}

export interface ResourceLinks {
  apps?: string | null;
  platform?: string | null;
}

export interface DataElement {
  id: string;
  instanceGuid?: string | null;
  dataType: string;
  filename?: string | null;
  contentType: string;
  blobStoragePath?: string | null;
  selfLinks?: ResourceLinks | null;
  size: number;
  contentHash?: string | null;
  locked: boolean;
  isRead: boolean;
  tags?: string[] | null;
  fileScanResult?: 'NotApplicable' | 'Pending' | 'Clean' | 'Infected' | null;
  created?: string | null;
  createdBy?: string | null;
  lastChanged?: string | null;
  lastChangedBy?: string | null;
}

export interface Substatus {
  label?: string | null;
  description?: string | null;
}

export interface InstanceStatus {
  isArchived: boolean;
  archived?: string | null;
  isSoftDeleted: boolean;
  softDeleted?: string | null;
  isHardDeleted: boolean;
  hardDeleted?: string | null;
  readStatus: 'Unread' | 'Read' | 'UpdatedSinceLastReview';
  substatus?: Substatus | null;
}

export interface CompleteConfirmation {
  stakeholderId: string;
  confirmedOn: string;
}

export interface Instance {
  id: string;
  instanceOwner: InstanceOwner;
  appId: string;
  org: string;
  selfLinks?: ResourceLinks | null;
  dueBefore?: string | null;
  visibleAfter?: string | null;
  process?: ProcessState | null;
  status?: InstanceStatus | null;
  completeConfirmations?: CompleteConfirmation[] | null;
  data?: DataElement[] | null;
  presentationTexts?: Record<string, string> | null;
  dataValues?: Record<string, string> | null;
  created?: string | null;
  createdBy?: string | null;
  lastChanged?: string | null;
  lastChangedBy?: string | null;
}

/** Storage's answer to an instance query (QueryResponse<Instance>). */
export interface QueryResponse<T> {
  instances: T[];
  count: number;
  self?: string | null;
  next?: string | null;
}

// ---- Altinn.App.Core / Altinn.App.Api models ----

export enum ValidationIssueSeverity {
  Unspecified = 0,
  Error = 1,
  Warning = 2,
  Informational = 3,
  Fixed = 4,
  Success = 5,
}

export interface ValidationIssueWithSource {
  severity: ValidationIssueSeverity;
  dataElementId?: string | null;
  field?: string | null;
  code?: string | null;
  description?: string | null;
  source: string;
}

/** The answer to `PUT data/{id}`: the data element and the fields the app's calculation changed. */
export interface CalculationResult extends DataElement {
  changedFields?: Record<string, unknown> | null;
}

/** Altinn's InstansiationInstance (`POST instances/create`): prefill by field path, or a copy of an archived instance. */
export interface InstansiationInstance {
  instanceOwner: InstanceOwner;
  dueBefore?: string | null;
  visibleAfter?: string | null;
  prefill?: Record<string, string> | null;
  sourceInstanceId?: string | null;
}

export interface ProcessNext {
  action?: string | null;
  actionOnBehalfOf?: string | null;
}

/** RFC 7807 problem details, as ASP.NET Core writes them. */
/** Altinn.App.Core.Models.AppOption. */
export interface AppOption {
  value: string | number | boolean | null;
  label: string;
  description?: string | null;
  helpText?: string | null;
}

export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  [extension: string]: unknown;
}

export class AltinnHttpError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDetails | undefined,
  ) {
    super(`HTTP ${status}${problem?.title ? `: ${problem.title}` : ''}`);
  }
}

type TokenSource = () => Promise<string> | string;

async function send<T>(url: string, token: TokenSource, init: { method?: string; json?: unknown; body?: string; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${await token()}`, accept: 'application/json' };
  let body: string | undefined = init.body;
  if (init.json !== undefined) body = JSON.stringify(init.json);
  if (body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body });
  if (!response.ok) {
    const text = await response.text();
    let problem: ProblemDetails | undefined;
    try {
      problem = JSON.parse(text) as ProblemDetails;
    } catch {
      problem = undefined;
    }
    throw new AltinnHttpError(response.status, problem);
  }
  return (response.headers.get('content-type') ?? '').includes('json') ? ((await response.json()) as T) : ((await response.text()) as T);
}

/** `https://<org>.apps.<domain>/<org>/<app>` in Altinn; any base URL here. */
export class AltinnAppClient {
  constructor(
    private readonly appBaseUrl: string,
    private readonly token: TokenSource,
  ) {}

  instantiate(instanceOwnerPartyId: string, template: Partial<Instance> = {}): Promise<Instance> {
    return send(`${this.appBaseUrl}/instances?instanceOwnerPartyId=${instanceOwnerPartyId}`, this.token, { method: 'POST', json: template });
  }

  /** PostSimplified in Altinn's InstancesController. */
  create(instansiation: InstansiationInstance): Promise<Instance> {
    return send(`${this.appBaseUrl}/instances/create`, this.token, { method: 'POST', json: instansiation });
  }

  getInstance(instanceId: string): Promise<Instance> {
    return send(`${this.appBaseUrl}/instances/${instanceId}`, this.token);
  }

  putFormData(instanceId: string, dataGuid: string, model: unknown): Promise<CalculationResult> {
    return send(`${this.appBaseUrl}/instances/${instanceId}/data/${dataGuid}`, this.token, { method: 'PUT', json: model });
  }

  getFormData<T>(instanceId: string, dataGuid: string): Promise<T> {
    return send(`${this.appBaseUrl}/instances/${instanceId}/data/${dataGuid}`, this.token);
  }

  validateInstance(instanceId: string): Promise<ValidationIssueWithSource[]> {
    return send(`${this.appBaseUrl}/instances/${instanceId}/validate`, this.token);
  }

  processNext(instanceId: string, body: ProcessNext = {}): Promise<ProcessState> {
    return send(`${this.appBaseUrl}/instances/${instanceId}/process/next`, this.token, { method: 'PUT', json: body });
  }

  getProcess(instanceId: string): Promise<ProcessState> {
    return send(`${this.appBaseUrl}/instances/${instanceId}/process`, this.token);
  }

  /** OptionsController.Get: `{org}/{app}/api/options/{optionsId}?language=`. */
  getOptions(optionsId: string, language: string): Promise<AppOption[]> {
    return send(`${this.appBaseUrl}/api/options/${optionsId}?language=${language}`, this.token);
  }
}

/** `https://platform.<domain>/storage/api/v1` in Altinn. */
export class AltinnStorageClient {
  constructor(
    private readonly storageBaseUrl: string,
    private readonly token: TokenSource,
  ) {}

  /** Follows `next` until the last page. */
  async getInstances(query: Record<string, string>): Promise<Instance[]> {
    const instances: Instance[] = [];
    let url: string | null | undefined = `${this.storageBaseUrl}/instances?${new URLSearchParams(query).toString()}`;
    while (url) {
      const page: QueryResponse<Instance> = await send<QueryResponse<Instance>>(url, this.token);
      instances.push(...page.instances);
      url = page.next ? new URL(page.next, this.storageBaseUrl).toString() : null;
    }
    return instances;
  }

  async getData(instanceId: string, dataGuid: string): Promise<Buffer> {
    const response = await fetch(`${this.storageBaseUrl}/instances/${instanceId}/data/${dataGuid}`, { headers: { authorization: `Bearer ${await this.token()}` } });
    if (!response.ok) throw new AltinnHttpError(response.status, undefined);
    return Buffer.from(await response.arrayBuffer());
  }

  addCompleteConfirmation(instanceId: string): Promise<Instance> {
    return send(`${this.storageBaseUrl}/instances/${instanceId}/complete`, this.token, { method: 'POST' });
  }
}
