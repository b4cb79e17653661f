/**
 * Gateways that branch on the action a task was completed with (Altinn's `gatewayAction`): a confirmation task
 * whose `reject` sends the instance back to the task that filled in the form.
 */
import { advanceProcess, branchingActions, conditionHolds, loadAppDefinition, parseConditionExpression, startProcess, type ProcessDefinition } from '../src';
import { containing, minimalApp, problemsOf, removeTempApps, writeApp } from './support/fixtures';

afterAll(removeTempApps);

const T0 = '2024-05-01T10:00:00.000Z';
const T1 = '2024-05-01T11:00:00.000Z';

/** Task_1 (data) -> Task_2 (confirmation) -> Gateway: reject back to Task_1, else the end. */
const REJECTABLE = {
  startEvent: { id: 'Start', next: 'Task_1' },
  elements: [
    { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Task_2' },
    { kind: 'task', id: 'Task_2', taskType: 'confirmation', next: 'Confirmed' },
    { kind: 'gateway', id: 'Confirmed', branches: [{ when: { action: 'reject' }, next: 'Task_1' }], otherwise: 'End' },
    { kind: 'end', id: 'End' },
  ],
};

const BPMN = (condition: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:altinn="http://altinn.no/process">
  <bpmn:process id="P" isExecutable="false">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="Task_1"><bpmn:extensionElements><altinn:taskExtension><altinn:taskType>data</altinn:taskType></altinn:taskExtension></bpmn:extensionElements></bpmn:task>
    <bpmn:task id="Task_2"><bpmn:extensionElements><altinn:taskExtension><altinn:taskType>confirmation</altinn:taskType></altinn:taskExtension></bpmn:extensionElements></bpmn:task>
    <bpmn:exclusiveGateway id="Confirmed" default="F4" />
    <bpmn:endEvent id="End" />
    <bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Task_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="Task_1" targetRef="Task_2" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_2" targetRef="Confirmed" />
    <bpmn:sequenceFlow id="F3" sourceRef="Confirmed" targetRef="Task_1"><bpmn:conditionExpression>${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F4" sourceRef="Confirmed" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>`;

async function rejectable(files: Record<string, string | object>): Promise<ProcessDefinition> {
  return (await loadAppDefinition(writeApp(minimalApp({ 'process.json': undefined, ...files })))).process;
}

describe('action conditions', () => {
  it('reads them from process.json, from `action == ...` and from Altinn\'s gatewayAction expression in BPMN', async () => {
    const fromJson = await rejectable({ 'process.json': REJECTABLE });
    const fromBpmn = await rejectable({ 'process.bpmn': BPMN("action == 'reject'") });
    const fromAltinn = await rejectable({ 'process.bpmn': BPMN('["equals", ["gatewayAction"], "reject"]') });
    for (const definition of [fromJson, fromBpmn, fromAltinn]) {
      expect(definition.elements.get('Confirmed')).toMatchObject({ kind: 'gateway', branches: [{ when: { action: 'reject' }, next: 'Task_1' }] });
    }
    expect(parseConditionExpression('${action == "approve"}', new Set())).toEqual({ action: 'approve' });
    expect(parseConditionExpression('["equals", ["dataModel", "x"], "y"]', new Set())).toMatch(/only \["equals", \["gatewayAction"\], "<action>"\]/);
  });

  it('holds only for the action the task was completed with', () => {
    expect(conditionHolds({ action: 'reject' }, new Map(), 'reject')).toBe(true);
    expect(conditionHolds({ action: 'reject' }, new Map(), 'confirm')).toBe(false);
    expect(conditionHolds({ action: 'reject' }, new Map())).toBe(false);
  });

  it('sends the process back on reject and to the end otherwise; the flow after Task_2 branches on reject only', async () => {
    const definition = await rejectable({ 'process.json': REJECTABLE });
    const inConfirmation = advanceProcess(definition, startProcess(definition, T0), new Map(), T0).state;
    expect(inConfirmation.currentTask).toMatchObject({ elementId: 'Task_2', flow: 2 });

    const rejected = advanceProcess(definition, inConfirmation, new Map(), T1, 'reject');
    expect(rejected).toMatchObject({ leftTask: 'Task_2', ended: false, state: { currentTask: { elementId: 'Task_1', flow: 3, altinnTaskType: 'data' } } });
    const confirmed = advanceProcess(definition, inConfirmation, new Map(), T1, 'confirm');
    expect(confirmed).toMatchObject({ ended: true, state: { endEvent: 'End', currentTask: null } });

    expect(branchingActions(definition, 'Task_2')).toEqual(['reject']);
    expect(branchingActions(definition, 'Task_1')).toEqual([]);
  });

  it('refuses what is no action condition', async () => {
    const badName = { ...REJECTABLE, elements: REJECTABLE.elements.map((e) => (e.id === 'Confirmed' ? { ...e, branches: [{ when: { action: 'Reject me' }, next: 'Task_1' }] } : e)) };
    const extraKey = { ...REJECTABLE, elements: REJECTABLE.elements.map((e) => (e.id === 'Confirmed' ? { ...e, branches: [{ when: { action: 'reject', equals: 1 }, next: 'Task_1' }] } : e)) };
    expect(await problemsOf(writeApp(minimalApp({ 'process.json': badName })))).toEqual(containing('action "Reject me" is not an action name'));
    expect(await problemsOf(writeApp(minimalApp({ 'process.json': extraKey })))).toEqual(containing('an action condition is { "action": "<name>" } and nothing else'));
    expect(await problemsOf(writeApp(minimalApp({ 'process.json': undefined, 'process.bpmn': BPMN('["not", ["gatewayAction"]]') })))).toEqual(
      containing("of Altinn's expressions only"),
    );
  });
});
