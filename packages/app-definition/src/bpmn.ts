/**
 * process.bpmn: a BPMN 2.0 subset read with fast-xml-parser (namespace prefixes are ignored).
 *
 *   <process>           exactly one
 *   <startEvent>        exactly one, one outgoing sequence flow
 *   <task>/<userTask>   `altinn:taskType="data|confirmation|feedback"` or
 *                       <extensionElements><altinn:taskExtension><altinn:taskType>data</…></…></…>; one outgoing flow
 *   <exclusiveGateway>  outgoing flows with a <conditionExpression>; the `default` flow (or the one flow without
 *                       a condition) is taken when no condition holds
 *   <endEvent>          at least one
 *   <sequenceFlow id sourceRef targetRef>
 *
 * Condition syntax (optionally wrapped in `${…}`), see parseConditionExpression:
 *   <dataTypeId>.<field path> (== | != | > | <) <literal>      e.g.  model.applicant.monthlyIncome > 50000
 *   <dataTypeId>.<field path> exists | not exists              e.g.  model.spouse.name exists
 * where <field path> is dotted with [index] for arrays, and <literal> is a number, 'text' or "text",
 * true, false or null. `>` and `<` need a number. The action the task was completed with:
 *   action == '<name>'                                            e.g.  action == 'reject'
 *   ["equals", ["gatewayAction"], "<name>"]                       Altinn's expression for the same
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { GatewayCondition, ProcessDefinition, ProcessElement, SignatureConfig, TaskType } from './api';
import { isRecord, parseFieldPath } from './field-path';
import { TASK_TYPES, assembleProcess } from './process';
import { decodeXmlText, refuseDoctype } from './xml-text';

export const PROCESS_BPMN_FILE = 'process.bpmn';
const label = PROCESS_BPMN_FILE;

const LIST_ELEMENTS = new Set(['process', 'startEvent', 'task', 'userTask', 'exclusiveGateway', 'endEvent', 'sequenceFlow']);
const SUPPORTED = new Set([...LIST_ELEMENTS, 'documentation', 'extensionElements', 'laneSet']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => LIST_ELEMENTS.has(name),
});

type XmlNode = Record<string, unknown>;

interface Flow {
  id: string;
  source: string;
  target: string;
  condition?: string;
}

/** Reads process.bpmn; `formDataTypes` disambiguates data type ids that contain dots in conditions. */
export function readProcessBpmn(xml: string, formDataTypes: ReadonlySet<string>): { definition?: ProcessDefinition; problems: string[] } {
  try {
    refuseDoctype(xml);
  } catch {
    return { problems: [`${label}: a DOCTYPE or entity declaration is not allowed`] };
  }
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) return { problems: [`${label}: not well-formed XML: ${verdict.err.msg} (line ${verdict.err.line})`] };
  const document = parser.parse(xml) as unknown;
  const definitions = isRecord(document) ? document.definitions : undefined;
  const processes = isRecord(definitions) ? definitions.process : undefined;
  if (!Array.isArray(processes) || processes.length !== 1 || !isRecord(processes[0])) {
    return { problems: [`${label}: expected a <definitions> root with exactly one <process>`] };
  }
  const process = processes[0];
  const problems: string[] = [];
  for (const name of Object.keys(process)) {
    if (!name.startsWith('@_') && !SUPPORTED.has(name)) problems.push(`${label}: unsupported element <${name}>`);
  }

  const nodes = (name: string): XmlNode[] => (Array.isArray(process[name]) ? process[name].filter(isRecord) : []);
  const idOf = (node: XmlNode, what: string): string | undefined => {
    const id = node['@_id'];
    if (typeof id === 'string' && id.length > 0) return id;
    problems.push(`${label}: a <${what}> has no id`);
    return undefined;
  };

  const flows: Flow[] = [];
  const flowIds = new Set<string>();
  for (const node of nodes('sequenceFlow')) {
    const id = idOf(node, 'sequenceFlow');
    if (!id) continue;
    if (flowIds.has(id)) problems.push(`${label}: duplicate sequence flow id ${id}`);
    flowIds.add(id);
    const source = node['@_sourceRef'];
    const target = node['@_targetRef'];
    if (typeof source !== 'string' || typeof target !== 'string') {
      problems.push(`${label}: sequence flow ${id} needs sourceRef and targetRef`);
      continue;
    }
    const condition = textOf(node.conditionExpression);
    flows.push({ id, source, target, ...(condition ? { condition } : {}) });
  }
  const outgoing = (id: string) => flows.filter((flow) => flow.source === id);

  const singleTarget = (id: string, what: string): string | undefined => {
    const out = outgoing(id);
    if (out.length !== 1) {
      problems.push(`${label}: ${what} ${id} must have exactly one outgoing sequence flow (has ${out.length})`);
      return undefined;
    }
    const [flow] = out as [Flow];
    if (flow.condition) problems.push(`${label}: sequence flow ${flow.id} has a condition but does not leave a gateway`);
    return flow.target;
  };

  const elements: ProcessElement[] = [];
  const starts = nodes('startEvent');
  let startEvent: { id: string; next: string } | undefined;
  if (starts.length !== 1) problems.push(`${label}: expected exactly one <startEvent> (found ${starts.length})`);
  const [start] = starts;
  const startId = start ? idOf(start, 'startEvent') : undefined;
  const startNext = startId ? singleTarget(startId, 'start event') : undefined;
  if (startId && startNext) startEvent = { id: startId, next: startNext };

  for (const node of [...nodes('task'), ...nodes('userTask')]) {
    const id = idOf(node, 'task');
    if (!id) continue;
    const taskType = node['@_taskType'] ?? textOf(pick(node, 'extensionElements', 'taskExtension', 'taskType'));
    if (!TASK_TYPES.includes(taskType as TaskType)) {
      problems.push(`${label}: task ${id} needs altinn:taskType ${TASK_TYPES.join(' | ')} (got ${JSON.stringify(taskType ?? null)})`);
    }
    const next = singleTarget(id, 'task');
    const name = node['@_name'];
    const signatureConfig = signatureConfigOf(pick(node, 'extensionElements', 'taskExtension', 'signatureConfig'));
    if (next && TASK_TYPES.includes(taskType as TaskType)) {
      elements.push({
        kind: 'task',
        id,
        taskType: taskType as TaskType,
        next,
        ...(typeof name === 'string' ? { name: decodeXmlText(name) } : {}),
        ...(signatureConfig && { signatureConfig }),
      });
    }
  }

  for (const node of nodes('exclusiveGateway')) {
    const id = idOf(node, 'exclusiveGateway');
    if (!id) continue;
    const out = outgoing(id);
    const defaultFlowId = node['@_default'];
    let otherwise: Flow | undefined;
    if (typeof defaultFlowId === 'string') {
      otherwise = out.find((flow) => flow.id === defaultFlowId);
      if (!otherwise) problems.push(`${label}: gateway ${id} has default flow ${defaultFlowId}, which does not leave it`);
    } else {
      const unconditional = out.filter((flow) => !flow.condition);
      if (unconditional.length === 1) otherwise = unconditional[0];
      else problems.push(`${label}: gateway ${id} needs a default flow (set default="…" or leave exactly one flow without condition)`);
    }
    const branches: Array<{ when: GatewayCondition; next: string }> = [];
    for (const flow of out) {
      if (flow === otherwise) continue;
      if (!flow.condition) {
        problems.push(`${label}: sequence flow ${flow.id} leaves gateway ${id} without a condition and is not its default`);
        continue;
      }
      const parsed = parseConditionExpression(flow.condition, formDataTypes);
      if (typeof parsed === 'string') problems.push(`${label}: sequence flow ${flow.id}: ${parsed}`);
      else branches.push({ when: parsed, next: flow.target });
    }
    if (otherwise) elements.push({ kind: 'gateway', id, branches, otherwise: otherwise.target });
  }

  for (const node of nodes('endEvent')) {
    const id = idOf(node, 'endEvent');
    if (!id) continue;
    if (outgoing(id).length > 0) problems.push(`${label}: end event ${id} must not have outgoing sequence flows`);
    elements.push({ kind: 'end', id });
  }

  // Any declared id counts here, so an element with its own problem does not also produce a flow problem.
  const declared = new Set([...LIST_ELEMENTS].flatMap((name) => nodes(name).map((node) => node['@_id'])));
  for (const flow of flows) {
    if (!declared.has(flow.source)) problems.push(`${label}: sequence flow ${flow.id} starts at unknown element ${flow.source}`);
  }
  if (!startEvent) return { problems };
  const assembled = assembleProcess(label, startEvent, elements);
  return { definition: assembled.definition, problems: [...problems, ...assembled.problems] };
}

/** Altinn's `<altinn:signatureConfig>`: `<altinn:dataTypesToSign><altinn:dataType>…` and `<altinn:signatureDataType>`. */
function signatureConfigOf(node: unknown): SignatureConfig | undefined {
  if (node === undefined) return undefined;
  const listed = pick(node, 'dataTypesToSign', 'dataType');
  const dataTypesToSign = (Array.isArray(listed) ? listed : [listed]).map(textOf).filter((id): id is string => id !== undefined);
  // An incomplete config is kept as far as it goes: the check against the metadata names what is missing.
  return { dataTypesToSign, signatureDataType: textOf(pick(node, 'signatureDataType')) ?? '' };
}

function pick(node: unknown, ...path: string[]): unknown {
  let cursor = node;
  for (const name of path) cursor = isRecord(cursor) ? cursor[name] : undefined;
  return cursor;
}

function textOf(node: unknown): string | undefined {
  const raw = typeof node === 'string' ? node : isRecord(node) && typeof node['#text'] === 'string' ? node['#text'] : undefined;
  const text = raw === undefined ? undefined : decodeXmlText(raw).trim();
  return text === '' ? undefined : text;
}

const LITERAL = /^(?:(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|'([^']*)'|"([^"]*)"|(true|false|null))$/;
const COMPARISON = /^(\S+)\s*(==|!=|>|<)\s*(.+)$/;
const ACTION_COMPARISON = /^action\s*==\s*(?:'([^']*)'|"([^"]*)")$/;
const EXISTENCE = /^(\S+)\s+(not\s+)?exists$/;

/**
 * Parses a condition expression (syntax in the file comment) into a GatewayCondition, or returns what is wrong.
 * The data type is the longest known id that prefixes the operand, so ids containing dots work.
 */
export function parseConditionExpression(expression: string, formDataTypes: ReadonlySet<string>): GatewayCondition | string {
  const wrapped = /^\$\{([\s\S]*)\}$/.exec(expression.trim());
  const body = (wrapped ? (wrapped[1] as string) : expression).trim();
  if (body.startsWith('[')) return altinnActionExpression(body);
  const action = ACTION_COMPARISON.exec(body);
  if (action) return { action: (action[1] ?? action[2]) as string };
  const comparison = COMPARISON.exec(body);
  const existence = EXISTENCE.exec(body);
  const operand = comparison?.[1] ?? existence?.[1];
  if (!operand) return `cannot read condition ${JSON.stringify(expression)}; expected e.g. "model.field > 100" or "model.field exists"`;

  const dataType =
    [...formDataTypes].filter((id) => operand.startsWith(`${id}.`)).sort((a, b) => b.length - a.length)[0] ?? operand.split('.')[0];
  const field = dataType && operand.length > dataType.length + 1 ? operand.slice(dataType.length + 1) : '';
  if (!dataType || field === '' || !parseFieldPath(field)) {
    return `condition operand ${JSON.stringify(operand)} must be <dataTypeId>.<field path>`;
  }
  if (existence) return { dataType, field, exists: !existence[2] };

  const [, , operator, literalText] = comparison as RegExpExecArray;
  const literal = LITERAL.exec((literalText as string).trim());
  if (!literal) return `cannot read the value ${JSON.stringify(literalText)} in ${JSON.stringify(expression)} (number, 'text', true, false or null)`;
  const value: string | number | boolean | null =
    literal[1] !== undefined ? Number(literal[1]) : literal[2] ?? literal[3] ?? (literal[4] === 'null' ? null : literal[4] === 'true');
  switch (operator) {
    case '==':
      return { dataType, field, equals: value };
    case '!=':
      return { dataType, field, notEquals: value };
    default:
      if (typeof value !== 'number') return `${operator} needs a number in ${JSON.stringify(expression)}`;
      return operator === '>' ? { dataType, field, greaterThan: value } : { dataType, field, lessThan: value };
  }
}

/** Of Altinn's expression language, the one form a gateway needs here: `["equals", ["gatewayAction"], "<name>"]`. */
function altinnActionExpression(body: string): GatewayCondition | string {
  const unsupported = `of Altinn's expressions only ["equals", ["gatewayAction"], "<action>"] is understood, not ${body}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return unsupported;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== 'equals') return unsupported;
  const isGatewayAction = (value: unknown) => Array.isArray(value) && value.length === 1 && value[0] === 'gatewayAction';
  const [, left, right] = parsed as [string, unknown, unknown];
  if (isGatewayAction(left) && typeof right === 'string') return { action: right };
  if (isGatewayAction(right) && typeof left === 'string') return { action: left };
  return unsupported;
}
