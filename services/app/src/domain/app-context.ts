import type { AppDefinition, FormModel, RuleContext, ValidationIssue } from '@forms/app-definition';
import type { StorageApi } from '@forms/client';
import { DomainError, isDomainError, type Instance, type Principal } from '@forms/contracts';
import { toAltinnIssues } from './issues';

/** Where use cases report what the caller is not told (pino's interface). */
export interface AppLog {
  error(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/** Everything the app's use cases work with: the definition, storage, the time, and the log. */
export interface AppContext {
  definition: AppDefinition;
  storage: StorageApi;
  clock: () => string;
  log: AppLog;
  /** Largest form data document (JSON or XML) read, from a request body or a multipart part. */
  maxFormDataBytes: number;
}

/** The caller: who (from the verified token) and the token itself, forwarded to storage. */
export interface Caller {
  principal: Principal;
  token: string;
}

export const AppErrors = {
  unknownDataType: (dataType: string) => new DomainError('invalid', 'DATA_TYPE_NOT_FOUND', `The app has no data type '${dataType}'.`),
  notFormData: (dataType: string) =>
    new DomainError('invalid', 'NOT_FORM_DATA', `Data type '${dataType}' is an attachment type; send its content as a file.`),
  notAttachment: (dataType: string) =>
    new DomainError('invalid', 'NOT_ATTACHMENT', `Data type '${dataType}' is form data; send JSON or XML.`),
  dataElementNotFound: () => new DomainError('not_found', 'DATA_ELEMENT_NOT_FOUND', 'No such data element on this instance.'),
  formDataInvalid: (errors: unknown[]) =>
    new DomainError('invalid', 'FORM_DATA_INVALID', 'The form data does not match the data model.', { errors }),
  unsupportedFormat: (contentType: string) =>
    new DomainError('unsupported_media_type', 'UNSUPPORTED_FORM_DATA_FORMAT', `Form data must be application/json or application/xml, not '${contentType}'.`),
  contentMismatch: (declared: string) =>
    new DomainError('unsupported_media_type', 'CONTENT_TYPE_MISMATCH', `The content is not what its Content-Type '${declared}' claims.`),
  processEnded: () => new DomainError('conflict', 'PROCESS_ENDED', 'The process has ended.'),
  partyMismatch: (query: string, template: string) =>
    new DomainError('invalid', 'PARTY_MISMATCH', `instanceOwnerPartyId ${query} in the query and instanceOwner.partyId ${template} in the template differ.`),
  actionNotSupported: (action: string) =>
    new DomainError('invalid', 'ACTION_NOT_SUPPORTED', `The action '${action}' is not one this task is completed with (submit, write, confirm, or an action the process branches on after it).`),
  anonymousNotAllowed: (dataType: string) =>
    new DomainError('forbidden', 'ANONYMOUS_NOT_ALLOWED', `Data type '${dataType}' does not allow anonymous stateless calls.`),
  processNotStarted: () => new DomainError('conflict', 'PROCESS_NOT_STARTED', 'The process has not started.'),
  processDidNotEnd: (tasks: number, task: string | undefined) =>
    new DomainError('conflict', 'PROCESS_DID_NOT_END', `The process did not end after ${tasks} tasks (it is in '${task ?? '?'}'): it goes round; complete its tasks one by one.`),
  taskMismatch: (expected: string, actual: string | undefined) =>
    new DomainError(
      'conflict',
      'TASK_MISMATCH',
      `The request was for task '${expected}', but the process is ${actual ? `in task '${actual}'` : 'no longer in a task'}; nothing was moved.`,
    ),
  validationFailed: (issues: ValidationIssue[]) =>
    new DomainError('conflict', 'VALIDATION_FAILED', 'The current task has validation errors; fix them and try again.', {
      validationIssues: toAltinnIssues(issues),
    }),
  partyTypeNotAllowed: (partyType: string) =>
    new DomainError('forbidden', 'PARTY_TYPE_NOT_ALLOWED', `This app may not be used by a party of type '${partyType}'.`),
  instanceNotOfThisApp: () => new DomainError('not_found', 'INSTANCE_NOT_FOUND', 'No such instance, or you may not see it.'),
  patchTestFailed: (detail: string) => new DomainError('conflict', 'PATCH_TEST_FAILED', detail),
  changedMeanwhile: () =>
    new DomainError('conflict', 'CHANGED_MEANWHILE', 'The instance changed while this request was handled. Read it again and retry.'),
  invalidPatch: (detail: string) => new DomainError('invalid', 'INVALID_PATCH', detail),
};

export function formModel(ctx: AppContext, dataType: string): FormModel {
  const model = ctx.definition.models.get(dataType);
  if (model) return model;
  if (ctx.definition.metadata.dataTypes.some((t) => t.id === dataType)) throw AppErrors.notFormData(dataType);
  throw AppErrors.unknownDataType(dataType);
}

/** What the rules see; without a caller (an anonymous stateless call) there is no principal and no party. */
export function ruleContext(ctx: AppContext, caller: Caller | undefined, partyId: string, instance?: Instance): RuleContext {
  return { appId: ctx.definition.metadata.id, ...(caller && { principal: caller.principal }), instanceOwnerPartyId: partyId, ...(instance && { instance }) };
}

/** Loads an instance of this app; instances of other apps are not found here. */
export async function loadInstance(ctx: AppContext, caller: Caller, instanceId: string): Promise<{ instance: Instance; version: number }> {
  const { value, version } = await ctx.storage.getInstance(caller.token, instanceId);
  if (value.appId !== ctx.definition.metadata.id) throw AppErrors.instanceNotOfThisApp();
  return { instance: value, version };
}

/**
 * A write the app guards with the version it read itself, so that what it decided on is still what it changes (the
 * process it validated, the form data a patch was applied to). Losing that race is the caller's failed precondition
 * (412) only when the caller sent one (If-Match); otherwise it is a conflict (409 CHANGED_MEANWHILE).
 */
export async function guardedByOwnRead<T>(callerExpectedVersion: number | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (callerExpectedVersion === undefined && isDomainError(error) && error.code === 'VERSION_MISMATCH') throw AppErrors.changedMeanwhile();
    throw error;
  }
}
