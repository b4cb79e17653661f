import jsonPatch, { type Operation } from 'fast-json-patch';
import type { ValidationIssue } from '@forms/app-definition';
import { DomainError, type DataElement, type Instance } from '@forms/contracts';
import { AppErrors, formModel, guardedByOwnRead, loadInstance, type AppContext, type Caller } from './app-context';
import { findElement } from './data-access';
import { jsonBody, readStoredFormData, STORED_FORM_CONTENT_TYPE, storeReplacement, structuralIssues } from './form-data';
import { copyFormFields } from './instance-fields';
import { validateInstance } from './validation';

/** Paths through `__proto__`, `constructor` or `prototype` would reach into objects' prototypes: never data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

function assertSafePatchPaths(patch: readonly Operation[]): void {
  for (const operation of patch) {
    const op = operation as unknown as Record<string, unknown>;
    for (const pointer of [op.path, op.from]) {
      if (pointer === undefined) continue;
      if (typeof pointer !== 'string') throw AppErrors.invalidPatch('A JSON Patch path is a string (a JSON Pointer).');
      const segments = pointer.split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
      if (segments.some((segment) => FORBIDDEN_SEGMENTS.has(segment))) throw AppErrors.invalidPatch(`The path '${pointer}' is not a path into the form data.`);
    }
  }
}

/** One element's patch (Altinn's PatchListItem). */
export interface ElementPatch {
  dataElementId: string;
  patch: Operation[];
}

/** What a patch answers (Altinn's DataPatchResponseMultiple): issues of the current task, the new models, the instance after the change. */
export interface PatchOutcome {
  validationIssues: ValidationIssue[];
  newDataModels: Array<{ dataElementId: string; data: Record<string, unknown> }>;
  instance: Instance;
  /** The version of each changed element, by id. */
  dataElements: DataElement[];
}

/**
 * JSON Patch (RFC 6902) on one or more form data elements. `test` operations let a client say what it expects the
 * data to be: a failing test is a conflict. Every patch is applied and checked against its model before anything
 * is written, so a bad patch changes nothing; `expectedVersion` (If-Match, one element only) guards it as well.
 * Issues of validators named in `ignoredValidators` (by source: schema, rules, dataTypes) are left out.
 */
export async function patchFormElements(
  ctx: AppContext,
  caller: Caller,
  instanceId: string,
  patches: ElementPatch[],
  options: { ignoredValidators?: string[]; expectedVersion?: number } = {},
): Promise<PatchOutcome> {
  if (patches.length === 0) throw AppErrors.invalidPatch('Give at least one patch.');
  if (new Set(patches.map((p) => p.dataElementId)).size !== patches.length) throw AppErrors.invalidPatch('Each data element may be patched once per request.');
  const { instance } = await loadInstance(ctx, caller, instanceId);
  if (instance.process.ended) throw AppErrors.processEnded();
  const prepared = await Promise.all(
    patches.map(async ({ dataElementId, patch }) => {
      const element = findElement(instance, dataElementId);
      const model = formModel(ctx, element.dataType);
      const current = await readStoredFormData(ctx, caller, instanceId, element);
      assertSafePatchPaths(patch);
      const validationError = jsonPatch.validate(patch, current);
      if (validationError) {
        if (validationError.name === 'TEST_OPERATION_FAILED') throw AppErrors.patchTestFailed(validationError.message.split('\n')[0] ?? 'A test operation failed.');
        throw AppErrors.invalidPatch(validationError.message.split('\n')[0] ?? 'The patch is invalid.');
      }
      const patched = jsonPatch.applyPatch(structuredClone(current), patch, false, false).newDocument;
      const issues = structuralIssues(model, patched);
      if (issues.length > 0) throw AppErrors.formDataInvalid(issues);
      return { element, current, patched: patched as Record<string, unknown> };
    }),
  );
  const newDataModels: PatchOutcome['newDataModels'] = [];
  const dataElements: DataElement[] = [];
  for (const { element, patched } of prepared) {
    const callerVersion = prepared.length === 1 ? options.expectedVersion : undefined;
    try {
      const result = await guardedByOwnRead(callerVersion, () => storeReplacement(ctx, caller, instance, element, patched, callerVersion ?? element.version));
      newDataModels.push({ dataElementId: element.id, data: result.data });
      dataElements.push(result.dataElement);
    } catch (error) {
      await restoreWritten(ctx, caller, instanceId, prepared, dataElements);
      throw error;
    }
  }
  const { instance: updated } = await loadInstance(ctx, caller, instanceId);
  const ignored = new Set(options.ignoredValidators ?? []);
  const issues = (await validateInstance(ctx, caller, updated)).filter((issue) => !ignored.has(issue.source));
  return { validationIssues: issues, newDataModels, instance: updated, dataElements };
}

/**
 * Storage writes one data element at a time: when a later element of a patch fails (it changed meanwhile, say), the
 * elements already written get back the content they had, each guarded by the version this patch gave it. A restore
 * refused because the element changed again is left alone: the later write replaced this patch's anyway. The
 * request answers with the failure that stopped it; a restore that fails too (storage gone) cannot be helped here.
 */
async function restoreWritten(
  ctx: AppContext,
  caller: Caller,
  instanceId: string,
  prepared: ReadonlyArray<{ element: DataElement; current: unknown }>,
  written: readonly DataElement[],
): Promise<void> {
  for (const [index, element] of written.entries()) {
    const before = jsonBody(prepared[index]?.current);
    await ctx.storage
      .replaceData(caller.token, instanceId, element.id, before, { contentType: STORED_FORM_CONTENT_TYPE, contentLength: before.length, expectedVersion: element.version })
      .catch(() => undefined);
  }
  // The form fields copied to the instance from the patched forms go back with them.
  const reloaded = await loadInstance(ctx, caller, instanceId).catch(() => undefined);
  if (!reloaded) return;
  for (const [index, element] of written.entries()) {
    await copyFormFields(ctx, caller, reloaded.instance, element.dataType, prepared[index]?.current as Record<string, unknown>);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function ignoredValidatorsOf(body: Record<string, unknown>): string[] | undefined {
  const ignored = body.ignoredValidators;
  if (ignored === undefined || ignored === null) return undefined;
  if (!Array.isArray(ignored) || ignored.some((v) => typeof v !== 'string')) throw AppErrors.invalidPatch('ignoredValidators is a list of validator names.');
  return ignored as string[];
}

function operationsOf(value: unknown): Operation[] {
  if (!Array.isArray(value)) throw AppErrors.invalidPatch('A JSON Patch is an array of operations.');
  return value as Operation[];
}

/** Altinn's DataPatchRequest: `{patch, ignoredValidators}`. */
export function parsePatchRequest(body: unknown): { patch: Operation[]; ignoredValidators?: string[] } {
  if (!isRecord(body)) throw new DomainError('invalid', 'INVALID_PATCH', 'Send {"patch": [...], "ignoredValidators": [...]}.');
  const ignoredValidators = ignoredValidatorsOf(body);
  return { patch: operationsOf(body.patch), ...(ignoredValidators && { ignoredValidators }) };
}

/** Altinn's DataPatchRequestMultiple: `{patches: [{dataElementId, patch}], ignoredValidators}`. */
export function parseMultiPatchRequest(body: unknown): { patches: ElementPatch[]; ignoredValidators?: string[] } {
  if (!isRecord(body) || !Array.isArray(body.patches)) throw new DomainError('invalid', 'INVALID_PATCH', 'Send {"patches": [{"dataElementId", "patch"}], "ignoredValidators": [...]}.');
  if (body.patches.length > 100) throw AppErrors.invalidPatch('At most 100 patches per request.');
  const patches = body.patches.map((item: unknown) => {
    if (!isRecord(item) || typeof item.dataElementId !== 'string') throw AppErrors.invalidPatch('Each patch names its dataElementId.');
    return { dataElementId: item.dataElementId.toLowerCase(), patch: operationsOf(item.patch) };
  });
  const ignoredValidators = ignoredValidatorsOf(body);
  return { patches, ...(ignoredValidators && { ignoredValidators }) };
}
