/** The process graph: assembling and checking it, and moving an instance through it (pure functions). */
import { DomainError, type ProcessElementInfo, type ProcessState } from '@forms/contracts';
import type { ActionCondition, GatewayCondition, ProcessDefinition, ProcessElement, ProcessEnd, ProcessGateway, ProcessTask } from './api';
import { getAtPath, parseFieldPath } from './field-path';

export const TASK_TYPES = ['data', 'confirmation', 'feedback', 'signing'] as const;
const COMPARISONS = ['equals', 'notEquals', 'greaterThan', 'lessThan', 'exists'] as const;
/** An action a gateway branches on: a name as Altinn's actions have (`reject`, `approve`). */
export const ACTION_NAME = /^[a-z][a-zA-Z0-9_-]{0,63}$/;

export const isActionCondition = (condition: GatewayCondition): condition is ActionCondition => 'action' in condition;

/** Builds the definition from parsed elements; duplicate ids are problems (the first one wins). */
export function assembleProcess(
  label: string,
  startEvent: { id: string; next: string },
  elements: readonly ProcessElement[],
): { definition: ProcessDefinition; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map<string, ProcessElement>();
  for (const element of elements) {
    if (element.id === startEvent.id) problems.push(`${label}: duplicate id ${element.id} (also the start event)`);
    else if (byId.has(element.id)) problems.push(`${label}: duplicate id ${element.id}`);
    else byId.set(element.id, element);
  }
  return { definition: { startEvent, elements: byId }, problems };
}

/** Outgoing targets of an element, in the order they are tried. */
export function successors(element: ProcessElement): string[] {
  switch (element.kind) {
    case 'task':
      return [element.next];
    case 'gateway':
      return [...element.branches.map((branch) => branch.next), element.otherwise];
    case 'end':
      return [];
  }
}

/**
 * Cross-checks the graph: unknown targets, conditions on unknown data types or bad field paths, missing end
 * event or task, unreachable elements, loops made only of gateways (which would spin forever), and elements
 * from which no end event can be reached.
 */
export function checkProcess(definition: ProcessDefinition, label: string, formDataTypes: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const { startEvent, elements } = definition;
  if (!elements.has(startEvent.next)) problems.push(`${label}: start event ${startEvent.id} targets unknown element ${startEvent.next}`);

  const all = [...elements.values()];
  for (const element of all) {
    if (element.kind === 'task') {
      if (!elements.has(element.next)) problems.push(`${label}: task ${element.id} targets unknown element ${element.next}`);
    } else if (element.kind === 'gateway') {
      element.branches.forEach((branch, index) => {
        if (!elements.has(branch.next)) problems.push(`${label}: gateway ${element.id} targets unknown element ${branch.next}`);
        problems.push(...checkCondition(branch.when, `${label}: gateway ${element.id} branch ${index + 1}`, formDataTypes));
      });
      if (!elements.has(element.otherwise)) problems.push(`${label}: gateway ${element.id} targets unknown element ${element.otherwise}`);
    }
  }
  if (!all.some((element) => element.kind === 'end')) problems.push(`${label}: no end event`);
  if (!all.some((element) => element.kind === 'task')) problems.push(`${label}: no task`);

  const reachable = reachableFrom([startEvent.next], (id) => {
    const element = elements.get(id);
    return element ? successors(element) : [];
  });
  for (const element of all) {
    if (!reachable.has(element.id)) problems.push(`${label}: element ${element.id} is unreachable from the start event`);
  }

  for (const cycle of gatewayCycles(definition)) problems.push(`${label}: cycle without a task: ${cycle.join(' -> ')}`);

  // Walk backwards from the end events to find elements that can never finish.
  const predecessors = new Map<string, string[]>();
  for (const element of all) {
    for (const target of successors(element)) predecessors.set(target, [...(predecessors.get(target) ?? []), element.id]);
  }
  const canFinish = reachableFrom(
    all.filter((element) => element.kind === 'end').map((element) => element.id),
    (id) => predecessors.get(id) ?? [],
  );
  if (all.some((element) => element.kind === 'end')) {
    for (const element of all) {
      if (reachable.has(element.id) && !canFinish.has(element.id)) problems.push(`${label}: element ${element.id} can never reach an end event`);
    }
  }
  return problems;
}

function checkCondition(condition: GatewayCondition, where: string, formDataTypes: ReadonlySet<string>): string[] {
  if (isActionCondition(condition)) {
    return ACTION_NAME.test(condition.action) ? [] : [`${where}: action ${JSON.stringify(condition.action)} is not an action name (a lower-case letter, then letters, digits, _ or -)`];
  }
  const problems: string[] = [];
  if (!formDataTypes.has(condition.dataType)) problems.push(`${where}: condition refers to ${condition.dataType}, which is not a form data type`);
  if (!parseFieldPath(condition.field)) problems.push(`${where}: condition field ${JSON.stringify(condition.field)} is not a dotted path`);
  if (!COMPARISONS.some((comparison) => condition[comparison] !== undefined)) {
    problems.push(`${where}: condition has no comparison (${COMPARISONS.join(', ')})`);
  }
  return problems;
}

function reachableFrom(roots: readonly string[], next: (id: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const id = pending.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    pending.push(...next(id));
  }
  return seen;
}

/** Cycles in the gateway-only subgraph; a loop back to a task is legitimate, a loop of gateways is not. */
function gatewayCycles(definition: ProcessDefinition): string[][] {
  const gateways = [...definition.elements.values()].filter((element): element is ProcessGateway => element.kind === 'gateway');
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (gateway: ProcessGateway) => {
    state.set(gateway.id, 'visiting');
    stack.push(gateway.id);
    for (const target of new Set(successors(gateway))) {
      const element = definition.elements.get(target);
      if (element?.kind !== 'gateway') continue;
      const seen = state.get(target);
      if (seen === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (seen === undefined) visit(element);
    }
    stack.pop();
    state.set(gateway.id, 'done');
  };
  for (const gateway of gateways) if (!state.has(gateway.id)) visit(gateway);
  return cycles;
}

/**
 * Whether a gateway condition holds for the given form data and the action the task was completed with; all
 * comparisons present must hold.
 */
export function conditionHolds(condition: GatewayCondition, formDataByType: ReadonlyMap<string, unknown>, action?: string): boolean {
  if (isActionCondition(condition)) return condition.action === action;
  const segments = parseFieldPath(condition.field);
  const value = segments ? getAtPath(formDataByType.get(condition.dataType), segments) : undefined;
  const present = value !== undefined && value !== null;
  if (condition.exists !== undefined && condition.exists !== present) return false;
  if (condition.equals !== undefined && !sameValue(value, condition.equals)) return false;
  if (condition.notEquals !== undefined && sameValue(value, condition.notEquals)) return false;
  if (condition.greaterThan !== undefined && !(typeof value === 'number' && value > condition.greaterThan)) return false;
  if (condition.lessThan !== undefined && !(typeof value === 'number' && value < condition.lessThan)) return false;
  return true;
}

// A missing field counts as null, so `equals: null` matches both.
const sameValue = (value: unknown, expected: string | number | boolean | null) => (expected === null ? value === undefined || value === null : value === expected);

/** Follows the flow from `fromId` through gateways to the next task or end event. */
function walk(definition: ProcessDefinition, fromId: string, formDataByType: ReadonlyMap<string, unknown>, action?: string): ProcessTask | ProcessEnd {
  let id = fromId;
  // Loaded definitions have no gateway-only cycles; the bound protects hand-built ones.
  for (let steps = 0; steps <= definition.elements.size; steps++) {
    const element = definition.elements.get(id);
    if (!element) throw new DomainError('conflict', 'PROCESS_ELEMENT_UNKNOWN', `The process has no element ${id}.`);
    if (element.kind !== 'gateway') return element;
    id = element.branches.find((branch) => conditionHolds(branch.when, formDataByType, action))?.next ?? element.otherwise;
  }
  throw new DomainError('conflict', 'PROCESS_CYCLE', `The process loops through gateways without reaching a task (from ${fromId}).`);
}

const taskInfo = (task: ProcessTask, flow: number, now: string): ProcessElementInfo => ({
  flow,
  started: now,
  elementId: task.id,
  ...(task.name === undefined ? {} : { name: task.name }),
  altinnTaskType: task.taskType,
});

export function startProcess(definition: ProcessDefinition, now: string): ProcessState {
  const first = walk(definition, definition.startEvent.next, new Map());
  const started = { started: now, startEvent: definition.startEvent.id };
  if (first.kind === 'end') return { ...started, currentTask: null, ended: now, endEvent: first.id };
  return { ...started, currentTask: taskInfo(first, 1, now) };
}

export function advanceProcess(
  definition: ProcessDefinition,
  state: ProcessState,
  formDataByType: ReadonlyMap<string, unknown>,
  now: string,
  action?: string,
): { state: ProcessState; leftTask: string; ended: boolean } {
  const current = state.currentTask;
  if (!current) {
    const code = state.ended ? 'PROCESS_ENDED' : 'PROCESS_NOT_STARTED';
    throw new DomainError('conflict', code, state.ended ? 'The process has already ended.' : 'The process has not been started.');
  }
  const task = definition.elements.get(current.elementId);
  if (task?.kind !== 'task') {
    throw new DomainError('conflict', 'PROCESS_TASK_UNKNOWN', `The current task ${current.elementId} is not a task of this app's process.`);
  }
  const next = walk(definition, task.next, formDataByType, action);
  if (next.kind === 'end') {
    return { state: { ...state, currentTask: null, ended: now, endEvent: next.id }, leftTask: task.id, ended: true };
  }
  return { state: { ...state, currentTask: taskInfo(next, current.flow + 1, now) }, leftTask: task.id, ended: false };
}

/**
 * The actions the flow after a task branches on (its gateways' action conditions, through gateways up to the next
 * task or end): completing the task with one of them may take another way than completing it plainly.
 */
export function branchingActions(definition: ProcessDefinition, taskId: string): string[] {
  const task = definition.elements.get(taskId);
  if (task?.kind !== 'task') return [];
  const actions = new Set<string>();
  const seen = new Set<string>();
  const pending = [task.next];
  while (pending.length > 0) {
    const element = definition.elements.get(pending.pop() as string);
    if (element?.kind !== 'gateway' || seen.has(element.id)) continue;
    seen.add(element.id);
    for (const branch of element.branches) if (isActionCondition(branch.when)) actions.add(branch.when.action);
    pending.push(...successors(element));
  }
  return [...actions];
}
