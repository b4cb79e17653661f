import { loadAppDefinition, type AppDefinition } from '../src';
import { CHILD_BENEFIT, PROCESS, TAX_RETURN, containing, minimalApp, problemsOf, removeTempApps, writeApp } from './support/fixtures';

afterAll(removeTempApps);

describe('the example apps', () => {
  let childBenefit: AppDefinition;
  let taxReturn: AppDefinition;
  beforeAll(async () => {
    childBenefit = await loadAppDefinition(CHILD_BENEFIT);
    taxReturn = await loadAppDefinition(TAX_RETURN);
  });

  it('loads nav/child-benefit with its BPMN process, form model and rules', () => {
    expect(childBenefit).toMatchObject({ org: 'nav', app: 'child-benefit', folder: CHILD_BENEFIT });
    expect(childBenefit.metadata.id).toBe('nav/child-benefit');
    expect(childBenefit.metadata.dataTypes.find((dataType) => dataType.id === 'proof')).toMatchObject({
      allowedContentTypes: ['application/pdf', 'image/png', 'image/jpeg'],
      maxSize: 5,
      maxCount: 3,
      minCount: 0,
    });
    expect([...childBenefit.models.keys()]).toEqual(['model']);
    expect(childBenefit.models.get('model')?.xmlRoot).toBe('ChildBenefit');

    const { startEvent, elements } = childBenefit.process;
    expect(startEvent).toEqual({ id: 'StartEvent_1', next: 'Task_1' });
    expect(elements.get('Task_1')).toEqual({ kind: 'task', id: 'Task_1', name: 'Fill in the application', taskType: 'data', next: 'Gateway_1' });
    expect(elements.get('Task_2')).toEqual({ kind: 'task', id: 'Task_2', name: 'Confirm', taskType: 'confirmation', next: 'EndEvent_1' });
    expect(elements.get('Gateway_1')).toEqual({
      kind: 'gateway',
      id: 'Gateway_1',
      branches: [{ when: { dataType: 'model', field: 'applicant.monthlyIncome', greaterThan: 50000 }, next: 'Task_2' }],
      otherwise: 'EndEvent_1',
    });
    expect(elements.get('EndEvent_1')).toEqual({ kind: 'end', id: 'EndEvent_1' });
    expect(Object.keys(childBenefit.rules).sort()).toEqual(['calculate', 'prefill', 'read', 'validate']);
  });

  it('loads skd/tax-return with its process.json', () => {
    expect(taxReturn).toMatchObject({ org: 'skd', app: 'tax-return' });
    expect(taxReturn.models.get('model')?.xmlRoot).toBe('TaxReturn');
    expect(taxReturn.metadata.dataTypes.find((dataType) => dataType.id === 'receipt')).toMatchObject({
      allowedContentTypes: ['application/pdf'],
      maxSize: 2,
      maxCount: 10,
    });
    expect([...taxReturn.process.elements.keys()]).toEqual(['Task_1', 'Task_2', 'EndEvent_1']);
    expect(Object.keys(taxReturn.rules).sort()).toEqual(['calculate', 'instanceOptions', 'onInstantiate', 'options', 'validate']);
  });
});

describe('loadAppDefinition', () => {
  it('loads a minimal app without rules, filling data type defaults', async () => {
    const definition = await loadAppDefinition(
      writeApp(minimalApp({ 'applicationmetadata.json': { id: 'acme/demo', dataTypes: [{ id: 'model', taskId: 'Task_1', appLogic: { schemaRef: 'models/Demo.schema.json' } }] } })),
    );
    expect(definition.rules).toEqual({});
    expect(definition.metadata.dataTypes[0]).toMatchObject({ maxCount: 0, minCount: 0 });
    expect(definition.models.get('model')?.xmlRoot).toBe('Demo');
  });

  it('lists every problem of a broken process.json and its data types at once', async () => {
    const folder = writeApp(
      minimalApp({
        'applicationmetadata.json': {
          id: 'acme/demo',
          dataTypes: [
            { id: 'model', maxCount: 1, minCount: 1, taskId: 'Task_9', appLogic: { schemaRef: 'models/Demo.schema.json' } },
            { id: 'missing', maxCount: 1, minCount: 0, appLogic: { schemaRef: 'models/Missing.schema.json' } },
            { id: 'broken', maxCount: 1, minCount: 0, appLogic: { schemaRef: 'models/Broken.schema.json' } },
            { id: 'escape', maxCount: 1, minCount: 0, appLogic: { schemaRef: '../../etc/passwd' } },
            { id: 'attachment', maxCount: 1, minCount: 0, taskId: 'Gateway_1' },
          ],
        },
        'models/Broken.schema.json': { title: 'Broken', type: 'object', properties: { amount: { type: 'strange' } } },
        'process.json': {
          startEvent: { id: 'Start', next: 'Task_1' },
          elements: [
            { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Task_7' },
            { kind: 'task', id: 'Task_1', taskType: 'confirmation', next: 'Task_2' },
            { kind: 'task', id: 'Task_2', taskType: 'data', next: 'Gateway_1' },
            { kind: 'task', id: 'Orphan', taskType: 'feedback', next: 'Task_2' },
            {
              kind: 'gateway',
              id: 'Gateway_1',
              branches: [{ when: { dataType: 'attachment', field: 'x', equals: 1 }, next: 'Gateway_2' }],
              otherwise: 'Gateway_2',
            },
            { kind: 'gateway', id: 'Gateway_2', branches: [{ when: { dataType: 'model', field: 'amount' }, next: 'Task_2' }], otherwise: 'Gateway_1' },
            { kind: 'task', id: 'Task_3', taskType: 'payment', next: 'Task_2' },
          ],
        },
      }),
    );
    const problems = await problemsOf(folder);
    expect(problems).toEqual(
      containing(
        'process.json: duplicate id Task_1',
        'process.json: task Task_1 targets unknown element Task_7',
        'process.json: element Orphan is unreachable from the start event',
        'process.json: cycle without a task: Gateway_1 -> Gateway_2 -> Gateway_1',
        'process.json: no end event',
        'attachment, which is not a form data type',
        'Gateway_2 branch 1: condition has no comparison',
        'elements[6] (Task_3): "taskType" must be one of data, confirmation, feedback, signing',
        'data type model: taskId Task_9 is not a task of the process',
        'data type attachment: taskId Gateway_1 is not a task of the process',
        'data type missing: schemaRef models/Missing.schema.json does not exist',
        'models/Broken.schema.json: invalid JSON Schema',
        'schemaRef ../../etc/passwd points outside the app folder',
      ),
    );
    expect(problems.length).toBeGreaterThanOrEqual(13);
  });

  it('reports elements that can never finish and a missing task', async () => {
    const looping = await problemsOf(
      writeApp(
        minimalApp({
          'process.json': {
            startEvent: { id: 'Start', next: 'Task_1' },
            elements: [
              { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Task_1' },
              { kind: 'end', id: 'End' },
            ],
          },
        }),
      ),
    );
    expect(looping).toEqual(containing('element Task_1 can never reach an end event', 'element End is unreachable'));

    const noTask = await problemsOf(
      writeApp(
        minimalApp({
          'applicationmetadata.json': { id: 'acme/demo', dataTypes: [] },
          'process.json': { startEvent: { id: 'Start', next: 'End' }, elements: [{ kind: 'end', id: 'End' }] },
        }),
      ),
    );
    expect(noTask).toEqual(containing('process.json: no task'));
  });

  it('reports metadata problems together with a missing process', async () => {
    const problems = await problemsOf(
      writeApp({
        'applicationmetadata.json': { id: 'Nav/Child Benefit', color: 'red', dataTypes: [{ id: 'x', maxSize: 0, maxCount: 1, minCount: 0 }] },
      }),
    );
    expect(problems).toEqual(
      containing('"id" must be "<org>/<app>"', 'must NOT have additional properties (color)', '/dataTypes/0/maxSize must be >= 1', 'no process: add process.json or process.bpmn'),
    );
  });

  it('reports duplicate data types, minCount above maxCount, both process files and invalid JSON', async () => {
    const problems = await problemsOf(
      writeApp(
        minimalApp({
          'applicationmetadata.json': {
            id: 'acme/demo',
            dataTypes: [
              { id: 'model', maxCount: 1, minCount: 0 },
              { id: 'model', maxCount: 1, minCount: 2 },
            ],
            copyInstanceSettings: { enabled: true, excludedDataTypes: ['receipts'] },
            presentationFields: [{ id: 'name', path: 'applicant.name', dataTypeId: 'form' }],
          },
          'process.bpmn': '<definitions/>',
        }),
      ),
    );
    expect(problems).toEqual(
      containing(
        'duplicate data type id model',
        'data type model has minCount 2 above maxCount 1',
        'field name reads data type form, which is not a data type of the app',
        'copyInstanceSettings.excludedDataTypes names receipts, which is not a data type of the app',
        'process.json and process.bpmn both exist',
      ),
    );
    expect(await problemsOf(writeApp(minimalApp({ 'applicationmetadata.json': '{ "id": ' })))).toEqual(containing('applicationmetadata.json: not valid JSON'));
    expect(await problemsOf(writeApp({ 'process.json': PROCESS }))).toEqual(containing('applicationmetadata.json: missing'));
  });

  it('reports form model problems: no XML root name, non-object root, unsupported dialect', async () => {
    const problems = await problemsOf(
      writeApp(
        minimalApp({
          'applicationmetadata.json': {
            id: 'acme/demo',
            dataTypes: [
              { id: 'model', maxCount: 1, minCount: 1, taskId: 'Task_1', appLogic: { schemaRef: 'models/Demo.schema.json' } },
              { id: 'nameless', maxCount: 1, minCount: 0, appLogic: { schemaRef: 'models/Nameless.schema.json' } },
              { id: 'list', maxCount: 1, minCount: 0, appLogic: { schemaRef: 'models/List.schema.json' } },
              { id: 'old', maxCount: 1, minCount: 0, appLogic: { schemaRef: 'models/Old.schema.json' } },
            ],
          },
          'models/Nameless.schema.json': { type: 'object' },
          'models/List.schema.json': { title: 'List', type: 'array' },
          'models/Old.schema.json': { $schema: 'http://json-schema.org/draft-04/schema#', title: 'Old', type: 'object' },
        }),
      ),
    );
    expect(problems).toEqual(
      containing(
        'models/Nameless.schema.json: no XML root element name',
        'models/List.schema.json: the root of a form model must have "type": "object"',
        'models/Old.schema.json: unsupported $schema',
      ),
    );
  });
});

describe('process.bpmn problems', () => {
  const bpmn = (body: string) => `<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:altinn="http://altinn.no/process">
  <bpmn:process id="P">${body}</bpmn:process>
</bpmn:definitions>`;

  it('lists task, gateway, condition and flow problems together', async () => {
    const problems = await problemsOf(
      writeApp(
        minimalApp({
          'process.json': undefined,
          'process.bpmn': bpmn(`
            <bpmn:startEvent id="Start" />
            <bpmn:task id="Task_1" />
            <bpmn:exclusiveGateway id="Gateway_1" />
            <bpmn:exclusiveGateway id="Gateway_2" default="Flow_nowhere" />
            <bpmn:parallelGateway id="Parallel" />
            <bpmn:endEvent id="End" />
            <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_1" />
            <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="Gateway_1" />
            <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="End"><bpmn:conditionExpression>model.amount &gt; 'a lot'</bpmn:conditionExpression></bpmn:sequenceFlow>
            <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_1" targetRef="Gateway_2"><bpmn:conditionExpression>amount is big</bpmn:conditionExpression></bpmn:sequenceFlow>
            <bpmn:sequenceFlow id="Flow_5" sourceRef="Gateway_2" targetRef="End" />
            <bpmn:sequenceFlow id="Flow_6" sourceRef="Ghost" targetRef="End" />
            <bpmn:sequenceFlow id="Flow_7" sourceRef="End" targetRef="Task_1" />`),
        }),
      ),
    );
    expect(problems).toEqual(
      containing(
        'process.bpmn: unsupported element <parallelGateway>',
        'process.bpmn: task Task_1 needs altinn:taskType',
        'process.bpmn: gateway Gateway_1 needs a default flow',
        'process.bpmn: gateway Gateway_2 has default flow Flow_nowhere, which does not leave it',
        'process.bpmn: sequence flow Flow_3: > needs a number',
        'process.bpmn: sequence flow Flow_4: cannot read condition',
        'process.bpmn: sequence flow Flow_6 starts at unknown element Ghost',
        'process.bpmn: end event End must not have outgoing sequence flows',
      ),
    );
  });

  it('refuses a DOCTYPE in process.bpmn and reports malformed XML', async () => {
    const withDoctype = await problemsOf(
      writeApp(minimalApp({ 'process.json': undefined, 'process.bpmn': `<!DOCTYPE x [<!ENTITY a "b">]>${bpmn('')}` })),
    );
    expect(withDoctype).toEqual(containing('process.bpmn: a DOCTYPE or entity declaration is not allowed'));
    const malformed = await problemsOf(writeApp(minimalApp({ 'process.json': undefined, 'process.bpmn': '<definitions><process>' })));
    expect(malformed).toEqual(containing('process.bpmn: not well-formed XML'));
  });

  it('takes the one unconditioned flow as default and reads `exists`, `==` and data type ids with dots', async () => {
    const folder = writeApp(
      minimalApp({
        'applicationmetadata.json': {
          id: 'acme/demo',
          dataTypes: [{ id: 'demo.model', maxCount: 1, minCount: 1, taskId: 'Task_1', appLogic: { schemaRef: 'models/Demo.schema.json' } }],
        },
        'process.json': undefined,
        'process.bpmn': bpmn(`
          <bpmn:startEvent id="Start" />
          <bpmn:userTask id="Task_1" altinn:taskType="data" />
          <bpmn:exclusiveGateway id="Gateway_1" />
          <bpmn:task id="Task_2" altinn:taskType="feedback" />
          <bpmn:task id="Task_3" altinn:taskType="confirmation" />
          <bpmn:endEvent id="End" />
          <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_1" />
          <bpmn:sequenceFlow id="F2" sourceRef="Task_1" targetRef="Gateway_1" />
          <bpmn:sequenceFlow id="F3" sourceRef="Gateway_1" targetRef="Task_2"><bpmn:conditionExpression>\${demo.model.applicant.spouse not exists}</bpmn:conditionExpression></bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F4" sourceRef="Gateway_1" targetRef="Task_3"><bpmn:conditionExpression>demo.model.kind == "urgent"</bpmn:conditionExpression></bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F5" sourceRef="Gateway_1" targetRef="End" />
          <bpmn:sequenceFlow id="F6" sourceRef="Task_2" targetRef="End" />
          <bpmn:sequenceFlow id="F7" sourceRef="Task_3" targetRef="End" />`),
      }),
    );
    const definition = await loadAppDefinition(folder);
    expect(definition.process.elements.get('Gateway_1')).toEqual({
      kind: 'gateway',
      id: 'Gateway_1',
      branches: [
        { when: { dataType: 'demo.model', field: 'applicant.spouse', exists: false }, next: 'Task_2' },
        { when: { dataType: 'demo.model', field: 'kind', equals: 'urgent' }, next: 'Task_3' },
      ],
      otherwise: 'End',
    });
  });
});

describe('rules files', () => {
  it('loads a CommonJS rules.js exporting hooks directly', async () => {
    const definition = await loadAppDefinition(writeApp(minimalApp({ 'rules.js': 'module.exports = { validate() { return []; } };' })));
    expect(typeof definition.rules.validate).toBe('function');
  });

  it('loads a TypeScript rules.ts with a named `rules` export', async () => {
    const definition = await loadAppDefinition(
      writeApp(
        minimalApp({
          'rules.ts': `import { defineRules } from '@forms/app-definition';
export const rules = defineRules({ prefill: (dataType: string) => ({ amount: dataType.length }) });`,
        }),
      ),
    );
    expect(await definition.rules.prefill?.('model', { appId: 'acme/demo', instanceOwnerPartyId: '1', principal: { kind: 'org', org: 'acme', scopes: [], subject: 'org:acme' } })).toEqual({ amount: 5 });
  });

  it('reports unknown hooks, hooks that are not functions, and rules that cannot be loaded', async () => {
    const unknownHooks = await problemsOf(writeApp(minimalApp({ 'rules.js': 'exports.default = { valdiate() {}, calculate: 42 };' })));
    expect(unknownHooks).toEqual(containing('rules.js: unknown hook valdiate', 'rules.js: hook calculate must be a function'));
    const broken = await problemsOf(writeApp(minimalApp({ 'rules.js': 'throw new Error("boom");' })));
    expect(broken).toEqual(containing('rules.js: cannot be loaded: boom'));
    const nothing = await problemsOf(writeApp(minimalApp({ 'rules.js': 'exports.helper = 1;' })));
    expect(nothing).toEqual(containing('rules.js: must export its rules as default'));
  });
});
