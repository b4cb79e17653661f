/** applicationmetadata.json: the ApplicationInput of the contracts plus the app id `<org>/<app>`. */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { AppId, ApplicationInput } from '@forms/contracts';
import type { AppMetadata } from './api';
import { isRecord } from './field-path';

export const METADATA_FILE = 'applicationmetadata.json';

// useDefaults fills maxCount/minCount (0) and partyTypesAllowed flags the way the storage API does.
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
addFormats(ajv);
const validateApplicationInput = ajv.compile(ApplicationInput);
const APP_ID_PATTERN = new RegExp(AppId.pattern as string);

/** Checks parsed metadata; returns it typed when there are no problems, and every problem found otherwise. */
export function checkMetadata(raw: unknown): { metadata?: AppMetadata; problems: string[] } {
  if (!isRecord(raw)) return { problems: [`${METADATA_FILE}: must be a JSON object`] };
  const problems: string[] = [];
  const { id, ...input } = raw;
  if (typeof id !== 'string' || !APP_ID_PATTERN.test(id)) {
    problems.push(`${METADATA_FILE}: "id" must be "<org>/<app>", each a lower-case slug of 2-64 characters (got ${JSON.stringify(id)})`);
  }
  if (!validateApplicationInput(input)) {
    for (const error of validateApplicationInput.errors ?? []) {
      const where = error.instancePath === '' ? '' : `${error.instancePath} `;
      const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
      problems.push(`${METADATA_FILE}: ${where}${error.message ?? error.keyword}${extra}`);
    }
    return { problems };
  }
  const seen = new Set<string>();
  for (const dataType of input.dataTypes) {
    if (seen.has(dataType.id)) problems.push(`${METADATA_FILE}: duplicate data type id ${dataType.id}`);
    seen.add(dataType.id);
    if (dataType.maxCount > 0 && dataType.minCount > dataType.maxCount) {
      problems.push(`${METADATA_FILE}: data type ${dataType.id} has minCount ${dataType.minCount} above maxCount ${dataType.maxCount}`);
    }
  }
  const { dataFields = [], presentationFields = [] } = input as ApplicationInput;
  for (const field of [...dataFields, ...presentationFields]) {
    if (!seen.has(field.dataTypeId)) problems.push(`${METADATA_FILE}: field ${field.id} reads data type ${field.dataTypeId}, which is not a data type of the app`);
  }
  for (const excluded of (input as ApplicationInput).copyInstanceSettings?.excludedDataTypes ?? []) {
    if (!seen.has(excluded)) problems.push(`${METADATA_FILE}: copyInstanceSettings.excludedDataTypes names ${excluded}, which is not a data type of the app`);
  }
  if (problems.length > 0) return { problems };
  return { metadata: { ...input, id: id as string }, problems };
}
