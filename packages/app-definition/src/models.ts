/** Form models: a data type's JSON Schema compiled with ajv, plus the XML root element name. */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { FormModel, ValidationIssue } from './api';
import { formatFieldPath, isRecord, jsonPointerToSegments } from './field-path';

const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** `$schema` values we accept; without `$schema` a schema is read as draft-07 (ajv's default dialect). */
const DRAFT_2020 = /json-schema\.org\/draft\/2020-12\/schema/;
const DRAFT_07 = /json-schema\.org\/draft-07\/schema/;

export type ModelBuildResult = { model: FormModel; problems: [] } | { model?: undefined; problems: string[] };

/**
 * Compiles a data type's schema. `label` names the schema in problems (the schemaRef, e.g. `models/x.schema.json`).
 * Problems are returned rather than thrown so the loader can report them together with all others.
 */
export function buildFormModel(dataTypeId: string, schema: unknown, label: string): ModelBuildResult {
  if (!isRecord(schema)) return { problems: [`${label}: the schema must be a JSON object`] };
  const problems: string[] = [];
  const declaredDialect = schema.$schema;
  let ajv: Ajv;
  if (declaredDialect === undefined || (typeof declaredDialect === 'string' && DRAFT_07.test(declaredDialect))) {
    ajv = new Ajv(ajvOptions);
  } else if (typeof declaredDialect === 'string' && DRAFT_2020.test(declaredDialect)) {
    ajv = new Ajv2020(ajvOptions);
  } else {
    return { problems: [`${label}: unsupported $schema ${JSON.stringify(declaredDialect)} (use draft 2020-12 or draft-07)`] };
  }
  addFormats(ajv);

  if (schema.type !== 'object') problems.push(`${label}: the root of a form model must have "type": "object"`);
  const xmlRoot = typeof schema['x-xml-root'] === 'string' ? schema['x-xml-root'] : typeof schema.title === 'string' ? schema.title : undefined;
  if (xmlRoot === undefined) problems.push(`${label}: no XML root element name; set "x-xml-root" (or "title")`);
  else if (!XML_NAME.test(xmlRoot)) problems.push(`${label}: XML root element name ${JSON.stringify(xmlRoot)} is not a valid XML name`);

  let validateFunction: ValidateFunction | undefined;
  try {
    validateFunction = ajv.compile(schema);
  } catch (error) {
    problems.push(`${label}: invalid JSON Schema: ${(error as Error).message}`);
  }
  if (problems.length > 0 || !validateFunction || xmlRoot === undefined) return { problems };

  const compiled = validateFunction;
  const model: FormModel = {
    dataTypeId,
    schema,
    xmlRoot,
    validate(data: unknown): ValidationIssue[] {
      if (compiled(data)) return [];
      return toIssues(compiled.errors ?? [], data);
    },
  };
  return { model, problems: [] };
}

// strict: false because app schemas carry annotations of their own (`x-xml-root`, `x-…`) that ajv's strict
// mode would reject; meta-schema validation still catches malformed schemas.
const ajvOptions = { allErrors: true, strict: false, validateSchema: true } as const;

/** Turns ajv errors into issues whose `field` points at the offending (or, for `required`, the missing) field. */
export function toIssues(errors: readonly ErrorObject[], data: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const segments = jsonPointerToSegments(error.instancePath, data);
    const params = error.params as Record<string, unknown>;
    const namedProperty = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
    if (typeof namedProperty === 'string') segments.push(namedProperty);
    const field = formatFieldPath(segments);
    const subject = field === '' ? 'the form data' : field;
    const description =
      error.keyword === 'required' || error.keyword === 'dependentRequired'
        ? `${subject} is required`
        : typeof namedProperty === 'string'
          ? `${subject} is not allowed here`
          : `${subject} ${error.message ?? `fails ${error.keyword}`}`;
    const key = `${error.keyword}\u0000${field}\u0000${description}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ severity: 'error', code: error.keyword, ...(field === '' ? {} : { field }), description, source: 'schema' });
  }
  return issues;
}
