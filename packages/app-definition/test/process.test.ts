import { DomainError } from '@forms/contracts';
import {
  advanceProcess,
  conditionHolds,
  loadAppDefinition,
  parseConditionExpression,
  startProcess,
  type AppDefinition,
  type FieldCondition,
  type ProcessDefinition,
  type ProcessElement,
} from '../src';
import { CHILD_BENEFIT, TAX_RETURN } from './support/fixtures';

const T0 = '2024-05-01T10:00:00.000Z';
const T1 = '2024-05-01T11:00:00.000Z';
const T2 = '2024-05-01T12:00:00.000Z';

const childBenefitForm = (monthlyIncome: number) => ({
  applicant: { name: 'Kari Nordmann', personNumber: '01017012345', monthlyIncome },
  children: [{ name: 'Per', birthYear: 2016 }],
});

describe('child-benefit process (BPMN, gateway on monthly income)', () => {
  let definition: AppDefinition;
  beforeAll(async () => {
    definition = await loadAppDefinition(CHILD_BENEFIT);
  });

  it('starts at Task_1 with flow 1', () => {
    expect(startProcess(definition.process, T0)).toEqual({
      started: T0,
      startEvent: 'StartEvent_1',
      currentTask: { flow: 1, started: T0, elementId: 'Task_1', name: 'Fill in the application', altinnTaskType: 'data' },
    });
  });

  it('goes to the confirmation task when the income is above 50 000, then ends', () => {
    const started = startProcess(definition.process, T0);
    const toConfirm = advanceProcess(definition.process, started, new Map([['model', childBenefitForm(60_000)]]), T1);
    expect(toConfirm).toEqual({
      leftTask: 'Task_1',
      ended: false,
      state: {
        started: T0,
        startEvent: 'StartEvent_1',
        currentTask: { flow: 2, started: T1, elementId: 'Task_2', name: 'Confirm', altinnTaskType: 'confirmation' },
      },
    });
    const done = advanceProcess(definition.process, toConfirm.state, new Map(), T2);
    expect(done).toEqual({
      leftTask: 'Task_2',
      ended: true,
      state: { started: T0, startEvent: 'StartEvent_1', currentTask: null, ended: T2, endEvent: 'EndEvent_1' },
    });
  });

  it('ends right after Task_1 when the income is 50 000 or less, or missing', () => {
    const started = startProcess(definition.process, T0);
    for (const form of [childBenefitForm(50_000), { applicant: { name: 'x' } }, undefined]) {
      const result = advanceProcess(definition.process, started, new Map([['model', form]]), T1);
      expect(result).toMatchObject({ leftTask: 'Task_1', ended: true, state: { currentTask: null, ended: T1, endEvent: 'EndEvent_1' } });
    }
  });

  it('refuses to advance a process that has ended or was never started, or sits on an unknown task', () => {
    const ended = advanceProcess(definition.process, startProcess(definition.process, T0), new Map(), T1).state;
    expect(() => advanceProcess(definition.process, ended, new Map(), T2)).toThrow(expect.objectContaining({ code: 'PROCESS_ENDED', kind: 'conflict' }));
    expect(() => advanceProcess(definition.process, {}, new Map(), T2)).toThrow(expect.objectContaining({ code: 'PROCESS_NOT_STARTED' }));
    const elsewhere = { ...ended, currentTask: { flow: 3, started: T1, elementId: 'Gateway_1', altinnTaskType: 'data' as const } };
    expect(() => advanceProcess(definition.process, elsewhere, new Map(), T2)).toThrow(DomainError);
  });
});

describe('tax-return process (process.json)', () => {
  it('counts flows through Task_1 -> Task_2 -> EndEvent_1', async () => {
    const { process } = await loadAppDefinition(TAX_RETURN);
    const first = startProcess(process, T0);
    const second = advanceProcess(process, first, new Map(), T1);
    expect(second.state.currentTask).toEqual({ flow: 2, started: T1, elementId: 'Task_2', name: 'Confirm and submit', altinnTaskType: 'confirmation' });
    const last = advanceProcess(process, second.state, new Map(), T2);
    expect(last).toMatchObject({ leftTask: 'Task_2', ended: true, state: { currentTask: null, endEvent: 'EndEvent_1', ended: T2 } });
  });
});

describe('gateways', () => {
  const definitionOf = (startNext: string, elements: ProcessElement[]): ProcessDefinition => ({
    startEvent: { id: 'Start', next: startNext },
    elements: new Map(elements.map((element) => [element.id, element])),
  });

  it('resolves gateways before the first task with no data (the otherwise branch)', () => {
    const definition = definitionOf('Gateway_0', [
      { kind: 'gateway', id: 'Gateway_0', branches: [{ when: { dataType: 'model', field: 'x', exists: true }, next: 'Task_A' }], otherwise: 'Task_B' },
      { kind: 'task', id: 'Task_A', taskType: 'data', next: 'End' },
      { kind: 'task', id: 'Task_B', taskType: 'feedback', next: 'End' },
      { kind: 'end', id: 'End' },
    ]);
    expect(startProcess(definition, T0).currentTask).toEqual({ flow: 1, started: T0, elementId: 'Task_B', altinnTaskType: 'feedback' });
  });

  it('takes the first matching branch and chains gateways', () => {
    const definition = definitionOf('Task_1', [
      { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Gateway_1' },
      {
        kind: 'gateway',
        id: 'Gateway_1',
        branches: [
          { when: { dataType: 'model', field: 'kind', equals: 'a' }, next: 'Gateway_2' },
          { when: { dataType: 'model', field: 'kind', notEquals: null }, next: 'Task_Other' },
        ],
        otherwise: 'End',
      },
      { kind: 'gateway', id: 'Gateway_2', branches: [{ when: { dataType: 'model', field: 'items[1].amount', lessThan: 10 }, next: 'Task_Small' }], otherwise: 'Task_Other' },
      { kind: 'task', id: 'Task_Small', taskType: 'confirmation', next: 'End' },
      { kind: 'task', id: 'Task_Other', taskType: 'feedback', next: 'End' },
      { kind: 'end', id: 'End' },
    ]);
    const started = startProcess(definition, T0);
    const next = (data: unknown) => advanceProcess(definition, started, new Map([['model', data]]), T1).state.currentTask?.elementId ?? 'ended';
    expect(next({ kind: 'a', items: [{ amount: 100 }, { amount: 5 }] })).toBe('Task_Small');
    expect(next({ kind: 'a', items: [{ amount: 100 }, { amount: 50 }] })).toBe('Task_Other');
    expect(next({ kind: 'b' })).toBe('Task_Other');
    expect(next({})).toBe('ended');
  });

  it('stops on a gateway-only loop in a hand-built definition instead of spinning', () => {
    const definition = definitionOf('Task_1', [
      { kind: 'task', id: 'Task_1', taskType: 'data', next: 'G1' },
      { kind: 'gateway', id: 'G1', branches: [], otherwise: 'G2' },
      { kind: 'gateway', id: 'G2', branches: [], otherwise: 'G1' },
    ]);
    expect(() => advanceProcess(definition, startProcess(definition, T0), new Map(), T1)).toThrow(expect.objectContaining({ code: 'PROCESS_CYCLE' }));
  });

  it('evaluates each comparison of a condition', () => {
    const data = new Map<string, unknown>([['model', { amount: 100, name: 'x', flag: false, empty: null, list: [{ v: 1 }] }]]);
    const holds = (condition: Omit<FieldCondition, 'dataType'>) => conditionHolds({ dataType: 'model', ...condition }, data);
    expect(holds({ field: 'amount', greaterThan: 99 })).toBe(true);
    expect(holds({ field: 'amount', greaterThan: 100 })).toBe(false);
    expect(holds({ field: 'amount', lessThan: 101, greaterThan: 50 })).toBe(true);
    expect(holds({ field: 'name', greaterThan: 1 })).toBe(false);
    expect(holds({ field: 'name', equals: 'x' })).toBe(true);
    expect(holds({ field: 'flag', equals: false })).toBe(true);
    expect(holds({ field: 'flag', notEquals: false })).toBe(false);
    expect(holds({ field: 'empty', equals: null })).toBe(true);
    expect(holds({ field: 'missing', equals: null })).toBe(true);
    expect(holds({ field: 'empty', exists: false })).toBe(true);
    expect(holds({ field: 'list[0].v', exists: true })).toBe(true);
    expect(holds({ field: 'list[1].v', exists: true })).toBe(false);
    expect(conditionHolds({ dataType: 'other', field: 'amount', exists: false }, data)).toBe(true);
  });
});

describe('parseConditionExpression', () => {
  const known = new Set(['model', 'model.v2']);
  it.each([
    ['model.applicant.monthlyIncome > 50000', { dataType: 'model', field: 'applicant.monthlyIncome', greaterThan: 50000 }],
    ['${model.total < -1.5}', { dataType: 'model', field: 'total', lessThan: -1.5 }],
    ["model.status == 'approved'", { dataType: 'model', field: 'status', equals: 'approved' }],
    ['model.flag != true', { dataType: 'model', field: 'flag', notEquals: true }],
    ['model.spouse == null', { dataType: 'model', field: 'spouse', equals: null }],
    ['model.children[0].name exists', { dataType: 'model', field: 'children[0].name', exists: true }],
    ['model.v2.amount>1', { dataType: 'model.v2', field: 'amount', greaterThan: 1 }],
  ])('reads %s', (expression, expected) => {
    expect(parseConditionExpression(expression, known)).toEqual(expected);
  });

  it.each(['model > 1', 'model.x >= 1', 'model.x == maybe', 'model.x > "1"', 'x'])('rejects %s with a message', (expression) => {
    expect(typeof parseConditionExpression(expression, known)).toBe('string');
  });
});
