/**
 * process.json, the simple process format:
 *   { "startEvent": { "id", "next" },
 *     "elements": [ { "kind": "task", "id", "name"?, "taskType", "next",
 *                     "signatureConfig"?: { "dataTypesToSign": [data type ids], "signatureDataType" } },
 *                   { "kind": "gateway", "id", "branches": [ { "when": GatewayCondition, "next" } ], "otherwise" },
 *                   { "kind": "end", "id" } ] }
 */
import type { FieldCondition, GatewayCondition, ProcessDefinition, ProcessElement, SignatureConfig, TaskType } from './api';
import { isRecord } from './field-path';
import { TASK_TYPES, assembleProcess } from './process';

export const PROCESS_JSON_FILE = 'process.json';
const label = PROCESS_JSON_FILE;

export function readProcessJson(raw: unknown): { definition?: ProcessDefinition; problems: string[] } {
  if (!isRecord(raw)) return { problems: [`${label}: must be a JSON object`] };
  const problems: string[] = [];
  const start = raw.startEvent;
  let startEvent: { id: string; next: string } | undefined;
  if (isRecord(start) && isId(start.id) && isId(start.next)) startEvent = { id: start.id, next: start.next };
  else problems.push(`${label}: "startEvent" must be { "id": string, "next": string }`);

  const elements: ProcessElement[] = [];
  if (!Array.isArray(raw.elements)) problems.push(`${label}: "elements" must be an array`);
  else raw.elements.forEach((entry: unknown, index) => {
    const element = readElement(entry, `${label}: elements[${index}]`, problems);
    if (element) elements.push(element);
  });
  if (!startEvent) return { problems };
  const assembled = assembleProcess(label, startEvent, elements);
  return { definition: assembled.definition, problems: [...problems, ...assembled.problems] };
}

function readElement(entry: unknown, where: string, problems: string[]): ProcessElement | undefined {
  if (!isRecord(entry) || !isId(entry.id)) {
    problems.push(`${where}: must be an object with a string "id"`);
    return undefined;
  }
  const at = `${where} (${entry.id})`;
  switch (entry.kind) {
    case 'task': {
      const taskType = entry.taskType;
      if (!TASK_TYPES.includes(taskType as TaskType)) problems.push(`${at}: "taskType" must be one of ${TASK_TYPES.join(', ')}`);
      if (!isId(entry.next)) problems.push(`${at}: "next" must be an element id`);
      if (entry.name !== undefined && typeof entry.name !== 'string') problems.push(`${at}: "name" must be a string`);
      const signatureConfig = entry.signatureConfig === undefined ? undefined : readSignatureConfig(entry.signatureConfig, at, problems);
      if (!TASK_TYPES.includes(taskType as TaskType) || !isId(entry.next)) return undefined;
      return {
        kind: 'task',
        id: entry.id,
        taskType: taskType as TaskType,
        next: entry.next,
        ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
        ...(signatureConfig && { signatureConfig }),
      };
    }
    case 'gateway': {
      const branches: Array<{ when: GatewayCondition; next: string }> = [];
      if (!Array.isArray(entry.branches)) problems.push(`${at}: "branches" must be an array`);
      else entry.branches.forEach((branch: unknown, index) => {
        const when = isRecord(branch) ? readCondition(branch.when, `${at} branch ${index + 1}`, problems) : undefined;
        if (!isRecord(branch) || !isId(branch.next)) problems.push(`${at} branch ${index + 1}: must be { "when": condition, "next": element id }`);
        else if (when) branches.push({ when, next: branch.next });
      });
      if (!isId(entry.otherwise)) {
        problems.push(`${at}: "otherwise" must be an element id`);
        return undefined;
      }
      return { kind: 'gateway', id: entry.id, branches, otherwise: entry.otherwise };
    }
    case 'end':
      return { kind: 'end', id: entry.id };
    default:
      problems.push(`${at}: "kind" must be task, gateway or end`);
      return undefined;
  }
}

function readSignatureConfig(raw: unknown, where: string, problems: string[]): SignatureConfig | undefined {
  const types = isRecord(raw) ? raw.dataTypesToSign : undefined;
  if (!isRecord(raw) || !Array.isArray(types) || !types.every(isId) || !isId(raw.signatureDataType)) {
    problems.push(`${where}: "signatureConfig" must be { "dataTypesToSign": [data type ids], "signatureDataType": data type id }`);
    return undefined;
  }
  return { dataTypesToSign: types, signatureDataType: raw.signatureDataType };
}

function readCondition(raw: unknown, where: string, problems: string[]): GatewayCondition | undefined {
  // { "action": "reject" }: the action the task was completed with.
  if (isRecord(raw) && 'action' in raw) {
    const unknown = Object.keys(raw).filter((key) => key !== 'action');
    if (typeof raw.action !== 'string' || unknown.length > 0) {
      problems.push(`${where}: an action condition is { "action": "<name>" } and nothing else`);
      return undefined;
    }
    return { action: raw.action };
  }
  if (!isRecord(raw) || typeof raw.dataType !== 'string' || typeof raw.field !== 'string') {
    problems.push(`${where}: "when" must have string "dataType" and "field", or be { "action": "<name>" }`);
    return undefined;
  }
  const condition: FieldCondition = { dataType: raw.dataType, field: raw.field };
  const scalar = (value: unknown): value is string | number | boolean | null =>
    value === null || ['string', 'number', 'boolean'].includes(typeof value);
  for (const key of ['equals', 'notEquals'] as const) {
    if (raw[key] === undefined) continue;
    if (scalar(raw[key])) condition[key] = raw[key];
    else problems.push(`${where}: "${key}" must be a string, number, boolean or null`);
  }
  for (const key of ['greaterThan', 'lessThan'] as const) {
    if (raw[key] === undefined) continue;
    if (typeof raw[key] === 'number') condition[key] = raw[key];
    else problems.push(`${where}: "${key}" must be a number`);
  }
  if (raw.exists !== undefined) {
    if (typeof raw.exists === 'boolean') condition.exists = raw.exists;
    else problems.push(`${where}: "exists" must be a boolean`);
  }
  const unknown = Object.keys(raw).filter((key) => !['dataType', 'field', 'equals', 'notEquals', 'greaterThan', 'lessThan', 'exists'].includes(key));
  if (unknown.length > 0) problems.push(`${where}: unknown condition keys ${unknown.join(', ')}`);
  return condition;
}

const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 128;
