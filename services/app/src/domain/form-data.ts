import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { parseFormData, type FormModel, type ValidationIssue } from '@forms/app-definition';
import { DomainError, type DataElement, type Instance } from '@forms/contracts';
import { AppErrors, formModel, loadInstance, ruleContext, type AppContext, type Caller } from './app-context';
import { assertMayChangeData, dataTypeOf, findElement } from './data-access';
import { copyFormFields } from './instance-fields';

/** Form data is kept in storage as JSON; the app service converts to and from XML at its edge. */
export const STORED_FORM_CONTENT_TYPE = 'application/json';

export type FormFormat = 'json' | 'xml';

export function formatOf(contentType: string | undefined): FormFormat {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/xml' || mediaType === 'text/xml') return 'xml';
  throw AppErrors.unsupportedFormat(contentType ?? '(none)');
}

/** Reads a body stream as UTF-8 text, refusing more than `limitBytes`. */
export async function readText(body: Readable, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limitBytes) {
      body.resume();
      throw new DomainError('too_large', 'BODY_TOO_LARGE', `The body exceeds the limit of ${limitBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Schema problems that make data unusable. Missing required fields are allowed while a form is being filled in. */
export function structuralIssues(model: FormModel, data: unknown): ValidationIssue[] {
  return model.validate(data).filter((issue) => issue.code !== 'required');
}

export function parseAndCheck(model: FormModel, body: string, format: FormFormat): Record<string, unknown> {
  return checkFormData(model, parseFormData(body, format, model));
}

/** The data, if it is an object the model can hold (missing required fields allowed); else FORM_DATA_INVALID. */
export function checkFormData(model: FormModel, data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw AppErrors.formDataInvalid([{ description: 'Form data must be an object.' }]);
  const issues = structuralIssues(model, data);
  if (issues.length > 0) throw AppErrors.formDataInvalid(issues);
  return data as Record<string, unknown>;
}

/** What the app's calculation runs on: the data of one data type, for a party (and its instance, once there is one). */
type Calculation = [ctx: AppContext, caller: Caller | undefined, dataType: string, data: Record<string, unknown>, partyId: string, instance?: Instance];

/** Runs the app's `calculate` on a copy (the data may be an object the app's own rules hand out again). */
export async function calculated(...[ctx, caller, dataType, data, partyId, instance]: Calculation): Promise<Record<string, unknown>> {
  const calculate = ctx.definition.rules.calculate;
  if (!calculate) return data;
  const draft = structuredClone(data);
  return (await calculate(dataType, draft, ruleContext(ctx, caller, partyId, instance))) ?? draft;
}

/** As `calculated`, with the dotted paths whose values the calculation changed (what a PUT or POST answers with). */
export async function calculate(...calculation: Calculation): Promise<{ data: Record<string, unknown>; changedFields: Record<string, unknown> }> {
  const [, , , data] = calculation;
  const result = await calculated(...calculation);
  // The data itself comes back only when the app has no calculation (one runs on a copy): nothing changed.
  return { data: result, changedFields: result === data ? {} : changedFields(data, result) };
}

export function changedFields(before: unknown, after: unknown): Record<string, unknown> {
  const flatBefore = flatten(before);
  const flatAfter = flatten(after);
  const changed: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flatAfter)) if (!Object.is(flatBefore[path], value)) changed[path] = value;
  for (const path of Object.keys(flatBefore)) if (!(path in flatAfter)) changed[path] = null;
  return changed;
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value)) value.forEach((item, i) => flatten(item, `${prefix}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else out[prefix] = value;
  return out;
}

export async function readStoredFormData(ctx: AppContext, caller: Caller, instanceId: string, element: DataElement): Promise<Record<string, unknown>> {
  const download = await ctx.storage.downloadData(caller.token, instanceId, element.id);
  return JSON.parse(await text(download.body)) as Record<string, unknown>;
}

/** Form data as storage keeps it (STORED_FORM_CONTENT_TYPE). */
export const jsonBody = (data: unknown) => Buffer.from(JSON.stringify(data));

export interface FormDataResult {
  dataElement: DataElement;
  data: Record<string, unknown>;
  changedFields: Record<string, unknown>;
}

/** POST data?dataType=<form type>: parse, check, calculate, store. */
export async function createFormData(
  ctx: AppContext,
  caller: Caller,
  instanceId: string,
  dataType: string,
  body: string,
  format: FormFormat,
): Promise<FormDataResult> {
  const model = formModel(ctx, dataType);
  const { instance } = await loadInstance(ctx, caller, instanceId);
  assertMayChangeData(caller, instance, dataTypeOf(ctx, dataType));
  const parsed = parseAndCheck(model, body, format);
  const calculated = await calculate(ctx, caller, dataType, parsed, instance.instanceOwner.partyId, instance);
  const payload = jsonBody(calculated.data);
  const dataElement = await ctx.storage.uploadData(caller.token, instanceId, dataType, payload, {
    contentType: STORED_FORM_CONTENT_TYPE,
    contentLength: payload.length,
  });
  await copyFormFields(ctx, caller, instance, dataType, calculated.data);
  return { dataElement, ...calculated };
}

/** Form data of a loaded instance, as the app's `read` rule presents it. */
export async function readFormData(
  ctx: AppContext,
  caller: Caller,
  instance: Instance,
  dataElement: DataElement,
): Promise<{ data: Record<string, unknown>; model: FormModel }> {
  const model = formModel(ctx, dataElement.dataType);
  const stored = await readStoredFormData(ctx, caller, instance.id, dataElement);
  const read = ctx.definition.rules.read;
  const data = read ? ((await read(dataElement.dataType, stored, ruleContext(ctx, caller, instance.instanceOwner.partyId, instance))) ?? stored) : stored;
  return { data, model };
}

/** PUT: replaces the form data; the app's calculation runs, and the fields it changed are returned. */
export async function replaceFormData(
  ctx: AppContext,
  caller: Caller,
  instanceId: string,
  dataId: string,
  body: string,
  format: FormFormat,
  expectedVersion?: number,
): Promise<FormDataResult> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  const element = findElement(instance, dataId);
  const model = formModel(ctx, element.dataType);
  return storeReplacement(ctx, caller, instance, element, parseAndCheck(model, body, format), expectedVersion);
}

export async function storeReplacement(
  ctx: AppContext,
  caller: Caller,
  instance: Instance,
  element: DataElement,
  data: Record<string, unknown>,
  expectedVersion?: number,
): Promise<FormDataResult> {
  assertMayChangeData(caller, instance, dataTypeOf(ctx, element.dataType));
  const calculated = await calculate(ctx, caller, element.dataType, data, instance.instanceOwner.partyId, instance);
  const payload = jsonBody(calculated.data);
  const dataElement = await ctx.storage.replaceData(caller.token, instance.id, element.id, payload, {
    contentType: STORED_FORM_CONTENT_TYPE,
    contentLength: payload.length,
    ...(expectedVersion !== undefined && { expectedVersion }),
  });
  await copyFormFields(ctx, caller, instance, element.dataType, calculated.data);
  return { dataElement, ...calculated };
}
