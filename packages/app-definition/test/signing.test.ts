/** Signing tasks: read from process.json and from Altinn's BPMN, and checked against the app's data types. */
import { loadAppDefinition } from '../src';
import { METADATA, containing, minimalApp, problemsOf, removeTempApps, writeApp } from './support/fixtures';

afterAll(removeTempApps);

const SIGNATURE_TYPE = { id: 'signature', allowedContentTypes: ['application/json'], allowedContributors: ['app:owned'], taskId: 'Task_2', maxCount: 0, minCount: 0 };
const metadata = (signature: Record<string, unknown> = SIGNATURE_TYPE) => ({ ...METADATA, dataTypes: [...METADATA.dataTypes, signature] });
const processWith = (task: Record<string, unknown>) => ({
  startEvent: { id: 'Start', next: 'Task_1' },
  elements: [
    { kind: 'task', id: 'Task_1', taskType: 'data', next: 'Task_2' },
    { kind: 'task', id: 'Task_2', taskType: 'signing', next: 'End', ...task },
    { kind: 'end', id: 'End' },
  ],
});
const SIGN_MODEL = { signatureConfig: { dataTypesToSign: ['model'], signatureDataType: 'signature' } };

const BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:altinn="http://altinn.no/process">
  <bpmn:process id="P" isExecutable="false">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:task id="Task_1"><bpmn:extensionElements><altinn:taskExtension><altinn:taskType>data</altinn:taskType></altinn:taskExtension></bpmn:extensionElements></bpmn:task>
    <bpmn:task id="Task_2" name="Sign">
      <bpmn:extensionElements>
        <altinn:taskExtension>
          <altinn:taskType>signing</altinn:taskType>
          <altinn:actions><altinn:action>sign</altinn:action></altinn:actions>
          <altinn:signatureConfig>
            <altinn:dataTypesToSign><altinn:dataType>model</altinn:dataType></altinn:dataTypesToSign>
            <altinn:signatureDataType>signature</altinn:signatureDataType>
          </altinn:signatureConfig>
        </altinn:taskExtension>
      </bpmn:extensionElements>
    </bpmn:task>
    <bpmn:endEvent id="End" />
    <bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Task_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="Task_1" targetRef="Task_2" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_2" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>`;

test('a signing task with its signatureConfig, from process.json or from Altinn\'s BPMN', async () => {
  const fromJson = await loadAppDefinition(writeApp(minimalApp({ 'applicationmetadata.json': metadata(), 'process.json': processWith(SIGN_MODEL) })));
  const fromBpmn = await loadAppDefinition(writeApp(minimalApp({ 'applicationmetadata.json': metadata(), 'process.json': undefined, 'process.bpmn': BPMN })));
  for (const definition of [fromJson, fromBpmn]) {
    expect(definition.process.elements.get('Task_2')).toMatchObject({ taskType: 'signing', signatureConfig: { dataTypesToSign: ['model'], signatureDataType: 'signature' } });
  }
});

test('a signature type a party could write, or that outlives its task, and other mistakes are refused', async () => {
  const load = (signature: Record<string, unknown>, task: Record<string, unknown> = SIGN_MODEL) =>
    problemsOf(writeApp(minimalApp({ 'applicationmetadata.json': metadata(signature), 'process.json': processWith(task) })));
  expect(await load({ ...SIGNATURE_TYPE, allowedContributors: undefined })).toEqual(containing('signature data type signature must be app-owned'));
  expect(await load({ ...SIGNATURE_TYPE, taskId: 'Task_1' })).toEqual(containing('signature data type signature must have "taskId": "Task_2"'));
  expect(await load({ ...SIGNATURE_TYPE, allowedContentTypes: ['application/pdf'] })).toEqual(containing('must allow application/json'));
  expect(await load(SIGNATURE_TYPE, {})).toEqual(containing('task Task_2 is a signing task without a signatureConfig'));
  expect(await load(SIGNATURE_TYPE, { signatureConfig: { dataTypesToSign: ['nope'], signatureDataType: 'signature' } })).toEqual(
    containing('task Task_2 signs data type nope, which the app does not have'),
  );
  expect(await load(SIGNATURE_TYPE, { signatureConfig: { dataTypesToSign: ['model'], signatureDataType: 'model' } })).toEqual(
    containing('signature data type model cannot also be signed', 'signature data type model must not be form data'),
  );
  expect(await load(SIGNATURE_TYPE, { signatureConfig: { dataTypesToSign: 'model' } })).toEqual(containing('"signatureConfig" must be'));
  const onDataTask = { ...processWith(SIGN_MODEL), elements: processWith(SIGN_MODEL).elements.map((e) => (e.id === 'Task_1' ? { ...e, ...SIGN_MODEL } : e)) };
  expect(await problemsOf(writeApp(minimalApp({ 'applicationmetadata.json': metadata(), 'process.json': onDataTask })))).toEqual(
    containing('task Task_1 has a signatureConfig but is a data task'),
  );
});
