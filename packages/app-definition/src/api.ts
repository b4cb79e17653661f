/**
 * API CONTRACT of @forms/app-definition (to be implemented in the files of this package; keep these names).
 * An org defines an app as a folder:
 *
 *   <app folder>/
 *     applicationmetadata.json   { id: "<org>/<app>", title, dataTypes, partyTypesAllowed }  (ApplicationInput + id)
 *     models/<name>.schema.json  JSON Schema (draft 2020-12 or 07) of a form data type, referenced from
 *                                dataTypes[].appLogic.schemaRef; `x-xml-root` (or `title`) names the XML root element
 *     process.json | process.bpmn  the process: ordered tasks, exclusive gateways, one end event
 *     rules.ts (or rules.js)     optional; default export created with `defineRules({...})`
 *     options/<id>.json          optional code lists: [{ value, label, description?, helpText? }] (Altinn's options)
 *
 * `loadAppDefinition(folder)` reads and validates everything at start-up and throws `AppDefinitionError` listing
 * every problem found (not just the first), e.g. "process.json: gateway Gateway_1 targets unknown element Task_9".
 */
import type { ApplicationInput, Instance, Principal, ProcessState } from '@forms/contracts';

export type AppMetadata = ApplicationInput & { id: string };

export type Severity = 'error' | 'warning' | 'info';

export interface ValidationIssue {
  severity: Severity;
  /** Stable code, e.g. `required`, `type`, `maximum`, `TooManyChildren`, `DataElementMissing`. */
  code: string;
  /** Dotted path into the form data (`applicant.income`, `children[2].name`), when the issue is about a field. */
  field?: string;
  description: string;
  dataElementId?: string;
  /** Who found it: the JSON Schema, the app's rules, or the data type rules (counts/types). */
  source: 'schema' | 'rules' | 'dataTypes';
}

/** A form data type with a JSON Schema model. */
export interface FormModel {
  dataTypeId: string;
  schema: Record<string, unknown>;
  /** XML root element name. */
  xmlRoot: string;
  /** Schema validation; an empty list means valid. Issues carry `source: 'schema'`. */
  validate(data: unknown): ValidationIssue[];
}

export type TaskType = 'data' | 'confirmation' | 'feedback' | 'signing';

/**
 * What a signing task signs (Altinn's signatureConfig): the data elements of `dataTypesToSign`, by their content
 * hashes, in a signature document stored as an element of `signatureDataType` (app-owned, bound to the task).
 */
export interface SignatureConfig {
  dataTypesToSign: string[];
  signatureDataType: string;
}

export interface ProcessTask {
  kind: 'task';
  id: string;
  name?: string;
  taskType: TaskType;
  next: string;
  /** Signing tasks only. */
  signatureConfig?: SignatureConfig;
}

/** Compares a field of one data type's form data; `field` is a dotted path as in ValidationIssue. */
export interface FieldCondition {
  dataType: string;
  field: string;
  equals?: string | number | boolean | null;
  notEquals?: string | number | boolean | null;
  greaterThan?: number;
  lessThan?: number;
  exists?: boolean;
}

/**
 * Holds when the task before the gateway was completed with this action (`process/next` with `{action}`), as
 * Altinn's `gatewayAction`: e.g. `reject` sends a confirmation back to the task that filled in the form.
 */
export interface ActionCondition {
  action: string;
}

export type GatewayCondition = FieldCondition | ActionCondition;

export interface ProcessGateway {
  kind: 'gateway';
  id: string;
  /** Tried in order; the first branch whose condition holds is taken. */
  branches: Array<{ when: GatewayCondition; next: string }>;
  /** Taken when no branch matches. */
  otherwise: string;
}

export interface ProcessEnd {
  kind: 'end';
  id: string;
}

export type ProcessElement = ProcessTask | ProcessGateway | ProcessEnd;

export interface ProcessDefinition {
  startEvent: { id: string; next: string };
  elements: ReadonlyMap<string, ProcessElement>;
}

/** What every rule hook gets to know. */
export interface RuleContext {
  appId: string;
  /** Who calls; absent for anonymous stateless calls (`/v1/data/anonymous`, data types with `allowAnonymousOnStateless`). */
  principal?: Principal;
  /** The party acted for; empty for anonymous stateless calls. */
  instanceOwnerPartyId: string;
  /** Absent for stateless calls (`/v1/data`). */
  instance?: Instance;
}

export interface ValidationContext extends RuleContext {
  instance: Instance;
  /** Form data of the instance by data element id, already parsed. */
  formData: ReadonlyMap<string, { dataType: string; data: unknown }>;
  currentTask?: string;
}

/** One choice of a code list (Altinn's AppOption); `label`, `description` and `helpText` are plain text or text resource keys. */
export interface AppOption {
  value: string | number | boolean;
  label: string;
  description?: string;
  helpText?: string;
}

/** A code list as a hook makes it (Altinn's AppOptions); `parameters` go back to the caller in the `Altinn-DownstreamParameters` header. */
export interface AppOptions {
  options: AppOption[];
  parameters?: Record<string, string>;
}

/** What a public code list is made from: the language asked for and the other query parameters of the request. */
export interface OptionsContext {
  appId: string;
  /** Default `nb`, as in Altinn. */
  language: string;
  query: Readonly<Record<string, string>>;
}

/** An instance's code list: everything validation sees of the instance, and the request's language and query. */
export interface InstanceOptionsContext extends ValidationContext {
  language: string;
  query: Readonly<Record<string, string>>;
}

type Answer<T> = T | Promise<T>;

/**
 * Marks a RuleViolation. A registered symbol is the same in every copy of this package: a compiled rules.js
 * carries its own copy of RuleViolation, so `instanceof` against the service's copy would not recognise it.
 */
const RULE_VIOLATION_BRAND = Symbol.for('forms.RuleViolation');

/** Thrown by `onInstantiate` (or other hooks) to refuse an action with a message for the caller. */
export class RuleViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleViolation';
    Object.defineProperty(this, RULE_VIOLATION_BRAND, { value: true });
  }
}

/** Whether `value` is a RuleViolation from any copy of this package (use this, not `instanceof`). */
export function isRuleViolation(value: unknown): value is RuleViolation {
  // No `instanceof Error` either: that, too, would tie the check to one realm.
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RULE_VIOLATION_BRAND] === true && typeof (value as { code?: unknown }).code === 'string';
}

/** The business rules of an app, as small optional hooks (after Altinn's app-lib). */
export interface AppRules {
  /** Derives fields. May change `data` in place or return a new object. */
  calculate?(dataType: string, data: Record<string, unknown>, ctx: RuleContext): Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
  /** Rule validation beyond the schema. Issues should carry `source: 'rules'`. */
  validate?(ctx: ValidationContext): ValidationIssue[] | Promise<ValidationIssue[]>;
  /**
   * Adjusts stored form data as it is read (GET), e.g. values that depend on the day they are shown.
   * May change `data` in place or return a new object; what is stored stays as it is.
   */
  read?(dataType: string, data: Record<string, unknown>, ctx: RuleContext): Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
  /** Initial form data for a data type. */
  prefill?(dataType: string, ctx: RuleContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Throw RuleViolation to refuse creating the instance. */
  onInstantiate?(ctx: RuleContext): void | Promise<void>;
  onTaskEnd?(taskId: string, ctx: ValidationContext): void | Promise<void>;
  onProcessEnd?(ctx: ValidationContext): void | Promise<void>;
  /**
   * A code list made when it is asked for (`GET api/options/{optionsId}`, public like a file's). Answer `undefined`
   * for ids this hook does not make: the app's `options/<id>.json` answers then. Throw RuleViolation to refuse the
   * request's parameters (400).
   */
  options?(optionsId: string, ctx: OptionsContext): Answer<AppOptions | AppOption[] | undefined>;
  /**
   * A code list drawn from an instance (`GET instances/{party}/{guid}/options/{optionsId}`), for those who may read
   * the instance only. `undefined`: no such list (404).
   */
  instanceOptions?(optionsId: string, ctx: InstanceOptionsContext): Answer<AppOptions | AppOption[] | undefined>;
}

export interface AppDefinition {
  folder: string;
  metadata: AppMetadata;
  org: string;
  app: string;
  /** Form data types by data type id. */
  models: ReadonlyMap<string, FormModel>;
  process: ProcessDefinition;
  rules: AppRules;
  /** Code lists from `options/<id>.json`, by id. */
  codeLists: ReadonlyMap<string, readonly AppOption[]>;
}

export class AppDefinitionError extends Error {
  constructor(
    readonly folder: string,
    readonly problems: string[],
  ) {
    super(`invalid app definition in ${folder}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'AppDefinitionError';
  }
}

/** Functions the package exports besides the types above (signatures to implement). */
export interface AppDefinitionFunctions {
  loadAppDefinition(folder: string): Promise<AppDefinition>;
  defineRules(rules: AppRules): AppRules;
  /** Process state at the first task after the start event (flow 1); gateways before it are resolved with no data. */
  startProcess(definition: ProcessDefinition, now: string): ProcessState;
  /**
   * Leaves the current task: follows `next`, resolving gateways against `formData` (data by data type id) and the
   * `action` the task was completed with, until a task or the end event. Returns the new state and the task left.
   */
  advanceProcess(
    definition: ProcessDefinition,
    state: ProcessState,
    formDataByType: ReadonlyMap<string, unknown>,
    now: string,
    action?: string,
  ): { state: ProcessState; leftTask: string; ended: boolean };
  /**
   * Parses form data sent as JSON or XML into the model's JSON shape (XML values typed by the schema:
   * numbers, booleans, arrays). Refuses DOCTYPE/DTDs, entities and external references, and malformed
   * documents, with DomainError('invalid', 'MALFORMED_XML' | 'XML_DTD_FORBIDDEN' | 'MALFORMED_JSON').
   */
  parseFormData(body: string, format: 'json' | 'xml', model: FormModel): unknown;
  serializeFormData(data: unknown, format: 'json' | 'xml', model: FormModel): string;
  /** A text value for the field at a dotted path, typed by the schema as XML text is (Altinn's prefill sends strings). */
  typeFieldText(model: FormModel, path: string, value: unknown): unknown;
}
