/** The shapes of the app API's answers and inputs (Altinn's models), as AppClient sends and receives them. */
import type { DataElement, FileScanResult, Instance } from '@forms/contracts';

/** Altinn's ValidationIssueSeverity, as the API sends it. */
export const ValidationIssueSeverity = { Error: 1, Warning: 2, Informational: 3, Fixed: 4, Success: 5 } as const;

/** Altinn's ValidationIssueWithSource. */
export interface ValidationIssue {
  /** See ValidationIssueSeverity: 1 Error, 2 Warning, 3 Informational, 4 Fixed, 5 Success. */
  severity: number;
  code: string;
  field?: string;
  description: string;
  dataElementId?: string;
  source: string;
}

/** The answer to a form data write (Altinn's CalculationResult): the data element and the fields the app's calculation changed. */
export type CalculationResult = DataElement & {
  /** Calculated fields by dotted path. */
  changedFields: Record<string, unknown>;
};

/** The answer to a PATCH of one element (Altinn's DataPatchResponse). */
export interface DataPatchResponse<T = Record<string, unknown>> {
  validationIssues: Array<{ source: string; issues: ValidationIssue[] }>;
  newDataModel: T;
  instance: Instance;
}

/** The answer to a PATCH of several elements (Altinn's DataPatchResponseMultiple). */
export interface DataPatchResponseMultiple {
  validationIssues: Array<{ source: string; issues: ValidationIssue[] }>;
  newDataModels: Array<{ dataElementId: string; data: Record<string, unknown> }>;
  instance: Instance;
}



/** Altinn's TextResource. */
export interface TextResource {
  id: string;
  org: string;
  language: string;
  resources: Array<{ id: string; value: string }>;
}

/** One choice of a code list (Altinn's AppOption); labels and texts are plain text or text resource keys. */
export interface AppOption {
  value: string | number | boolean;
  label: string;
  description?: string;
  helpText?: string;
}

/** A code list and the parameters it was made from (Altinn's `Altinn-DownstreamParameters` header). */
export interface CodeList {
  options: AppOption[];
  parameters: Record<string, string>;
}

/** What a code list is asked for with: the language (the app's default `nb`) and parameters the list is made from. */
export interface CodeListRequest {
  language?: string;
  query?: Record<string, string>;
}

/** Form data: an object is sent as JSON; a string as it is, as XML when it starts with `<`, else as JSON. */
export type FormInput = object | string;

export interface FormWriteOptions {
  /** Overrides the content type worked out from the data. */
  contentType?: 'application/json' | 'application/xml';
}

/** One JSON Patch (RFC 6902) operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** Altinn's InstanceFileScanResult: the scanned data elements of an instance and the state of the whole. */
export interface InstanceFileScanResult {
  id: string;
  fileScanResult: FileScanResult;
  data: Array<{ id: string; fileScanResult: FileScanResult }>;
}
