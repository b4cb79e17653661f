/**
 * nav/child-benefit from a person's first request to the org's confirmed download: prefill, XML form data,
 * calculation, a rule that needs an attachment, the gateway to the confirmation task, and storage's
 * query / download / complete for the org.
 */
import type { DataElement, Instance } from '@forms/contracts';
import { OWNER_PARTY, viaApp } from '../../storage/test/support/storage-harness';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF, STORAGE_API } from './support/fixtures';

let h: AppHarness;
let owner: Record<string, string>;
let nav: Record<string, string>;

beforeAll(async () => {
  h = await startApp('nav/child-benefit');
  owner = h.storage.auth.owner;
  nav = h.storage.auth.nav;
});
afterAll(() => h.close());

const year = new Date().getFullYear();
const formXml = (income: number) => `<?xml version="1.0" encoding="UTF-8"?>
<ChildBenefit>
  <applicant><name>Kari Nordmann</name><personNumber>01017012345</personNumber><monthlyIncome>${income}</monthlyIncome></applicant>
  <children><name>Per</name><birthYear>${year - 30}</birthYear></children>
  <children><name>Lise</name><birthYear>${year - 4}</birthYear></children>
</ChildBenefit>`;

describe('a person applies for child benefit and nav collects the application', () => {
  let instance: Instance;
  let form: DataElement;
  let formEtag: string;

  test('creating an instance starts the process at the data task with prefilled form data', async () => {
    instance = await createInstance(h, owner, OWNER_PARTY);
    expect(instance.appId).toBe('nav/child-benefit');
    expect(instance.instanceOwner.partyId).toBe(OWNER_PARTY);
    expect(instance.process.currentTask).toMatchObject({ elementId: 'Task_1', altinnTaskType: 'data' });
    const forms = instance.data.filter((d) => d.dataType === 'model');
    expect(forms).toHaveLength(1);
    form = forms[0] as DataElement;
    expect(form.contentType).toBe('application/json');

    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: owner });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ applicant: { name: 'Ola Nordmann' }, children: [], numberOfChildren: 0, monthlyBenefit: 0 });
  });

  test('the instance reads back as itself, and validate shows the errors of the unfinished form', async () => {
    const response = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: owner });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe(`"${instance.version}"`);
    expect(response.json<Instance>()).toMatchObject({ id: instance.id, appId: 'nav/child-benefit', process: { currentTask: { elementId: 'Task_1' } } });
    const issues = (await h.app.inject({ url: `${h.base}/instances/${instance.id}/validate`, headers: owner })).json<Array<{ severity: number; code: string }>>();
    // Required personNumber (schema), NoChildren (rule): errors (1); IncomeMissing: a warning (2).
    expect(issues.filter((i) => i.severity === 1)).toHaveLength(2);
    expect(issues.filter((i) => i.severity === 2).map((i) => i.code)).toEqual(['IncomeMissing']);
    const onForm = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}/validate`, headers: owner });
    expect(onForm.json<Array<{ dataElementId: string }>>().every((i) => i.dataElementId === form.id)).toBe(true);
  });

  test('XML form data is accepted, calculated, and the calculated fields are returned', async () => {
    const response = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...owner, 'content-type': 'application/xml' },
      payload: formXml(60_000),
    });
    expect(response.statusCode).toBe(200);
    // Altinn's CalculationResult: the data element and the fields the calculation changed.
    const body = response.json<DataElement & { changedFields: Record<string, unknown> }>();
    // Only Lise is under 18.
    expect(body.changedFields).toEqual({ numberOfChildren: 2, monthlyBenefit: 1766 });
    expect(body).toMatchObject({ id: form.id, dataType: 'model', contentType: 'application/json' });
    expect(body.version).toBeGreaterThan(form.version);
    formEtag = response.headers.etag as string;
    expect(formEtag).toBe(`"${body.version}"`);
  });

  test('the stored data reads back as XML or JSON by Accept', async () => {
    const xml = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: { ...owner, accept: 'application/xml' } });
    expect(xml.statusCode).toBe(200);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    expect(xml.body).toContain('<ChildBenefit>');
    expect(xml.body).toContain('<monthlyBenefit>1766</monthlyBenefit>');
    expect(xml.body).toContain('<personNumber>01017012345</personNumber>');

    const json = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: owner });
    expect(json.json()).toMatchObject({ applicant: { personNumber: '01017012345' }, children: [{ name: 'Per' }, { name: 'Lise' }] });
    expect(json.headers.etag).toBe(formEtag);
  });

  test('the task cannot be completed while a rule fails: 409 with the validation issues', async () => {
    const response = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
    const problem = expectProblem(response, 409, 'VALIDATION_FAILED');
    expect(problem.validationIssues).toEqual([
      expect.objectContaining({ severity: 1, code: 'ProofRequired', field: 'applicant.monthlyIncome', dataElementId: form.id }),
    ]);
    const process = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process`, headers: owner });
    expect(process.json()).toMatchObject({ currentTask: { elementId: 'Task_1' } });
  });

  test('an attachment that is not what it claims to be is refused by its content', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
      headers: { ...owner, 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="payslip.pdf"' },
      payload: Buffer.from('MZ\x90\x00 this is a windows executable, not a PDF'),
    });
    expectProblem(response, 415, 'CONTENT_TYPE_MISMATCH');
  });

  test('a proof attachment is streamed through to storage and the rule is satisfied', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
      headers: { ...owner, 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="payslip.pdf"' },
      payload: PDF,
    });
    expect(response.statusCode).toBe(201);
    const element = response.json<DataElement>();
    expect(element).toMatchObject({ dataType: 'proof', filename: 'payslip.pdf', contentType: 'application/pdf', size: PDF.length });

    const download = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: owner });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(PDF)).toBe(true);
    expect(download.headers['content-disposition']).toContain('payslip.pdf');

    const validate = await h.app.inject({ url: `${h.base}/instances/${instance.id}/validate`, headers: owner });
    expect(validate.json<Array<{ severity: number }>>().filter((i) => i.severity === 1)).toEqual([]);
  });

  test('a high income takes the gateway to the confirmation task, and confirming ends the process', async () => {
    const ahead = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
    expect(ahead.json()).toEqual(['Task_2']);
    const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
    expect(next.statusCode).toBe(200);
    // Altinn answers with the process state, not the instance.
    expect(next.json<Instance['process']>().currentTask).toMatchObject({ elementId: 'Task_2', altinnTaskType: 'confirmation' });
    // Altinn's AppProcessState: the app's tasks come along.
    expect(next.json<{ processTasks: unknown[] }>().processTasks).toEqual([
      { altinnTaskType: 'data', elementId: 'Task_1' },
      { altinnTaskType: 'confirmation', elementId: 'Task_2' },
    ]);

    const unknownAction = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner, payload: { action: 'reject' } });
    expectProblem(unknownAction, 400, 'ACTION_NOT_SUPPORTED');
    const confirm = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner, payload: { action: 'confirm' } });
    expect(confirm.statusCode).toBe(200);
    const ended = confirm.json<Instance['process']>();
    expect(ended.ended).toBeDefined();
    expect(ended.endEvent).toBe('EndEvent_1');
    expect(ended.currentTask ?? null).toBeNull();

    const again = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
    expectProblem(again, 409, 'PROCESS_ENDED');
  });

  test('the process history records every step', async () => {
    const response = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process/history`, headers: owner });
    expect(response.statusCode).toBe(200);
    const steps = response.json<{ processHistory: Array<{ eventType: string; elementId: string; occured: string; performedBy: string }> }>().processHistory;
    expect(steps.map((e) => [e.eventType, e.elementId])).toEqual([
      ['process_StartEvent', 'StartEvent_1'],
      ['process_StartTask', 'Task_1'],
      ['process_EndTask', 'Task_1'],
      ['process_StartTask', 'Task_2'],
      ['process_EndTask', 'Task_2'],
      ['process_EndEvent', 'EndEvent_1'],
    ]);
    expect(steps.every((e) => e.performedBy === '1001' && !Number.isNaN(Date.parse(e.occured)))).toBe(true);
  });

  test('form data can no longer be changed once the process has ended', async () => {
    const response = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...owner, 'content-type': 'application/xml' },
      payload: formXml(10),
    });
    expect(response.statusCode).toBe(409);
  });

  test('nav finds the completed instance, downloads its data, confirms, and no longer sees it', async () => {
    const query = (extra = '') =>
      h.storage.app.inject({ url: `${STORAGE_API}/instances?appId=nav/child-benefit&process.isComplete=true${extra}`, headers: nav });
    const found = await query();
    expect(found.statusCode).toBe(200);
    const completed = found.json<{ instances: Instance[] }>().instances.find((i) => i.id === instance.id);
    expect(completed).toBeDefined();

    for (const element of (completed as Instance).data) {
      const download = await h.storage.app.inject({ url: `${STORAGE_API}/instances/${instance.id}/data/${element.id}`, headers: nav });
      expect(download.statusCode).toBe(200);
      expect(download.rawPayload.length).toBe(element.size);
    }

    const confirm = await h.storage.app.inject({ method: 'POST', url: `${STORAGE_API}/instances/${instance.id}/complete`, headers: nav });
    expect(confirm.statusCode).toBe(200);
    const remaining = await query('&excludeConfirmedBy=nav');
    expect(remaining.json<{ instances: Instance[] }>().instances.map((i) => i.id)).not.toContain(instance.id);
  });

  test('every change is in storage\'s audit log, with who made it', async () => {
    const response = await h.storage.app.inject({ url: `${STORAGE_API}/instances/${instance.id}/events`, headers: nav });
    const events = response.json<{ instanceEvents: Array<{ eventType: string; user: Record<string, unknown> }> }>().instanceEvents;
    const types = events.map((e) => e.eventType);
    expect(types).toEqual(expect.arrayContaining(['Created', 'DataCreated', 'DataUpdated', 'process_EndEvent', 'ConfirmedComplete']));
    expect(events.find((e) => e.eventType === 'Created')?.user).toMatchObject({ userId: '1001' });
  });
});

describe('the gateway takes the other way for a low income', () => {
  test('with an income below the limit the process ends after the data task', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    const put = await h.app.inject({
      method: 'PUT',
      url: `${h.base}/instances/${instance.id}/data/${form.id}`,
      headers: { ...owner, 'content-type': 'application/xml' },
      payload: formXml(30_000),
    });
    expect(put.statusCode).toBe(200);
    const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
    expect(next.statusCode).toBe(200);
    expect(next.json<Instance['process']>()).toMatchObject({ endEvent: 'EndEvent_1' });
  });
});

describe("the app's read rule", () => {
  test('form data is shown as the read rule has it, while storage keeps what was saved', async () => {
    const instance = await createInstance(h, owner, OWNER_PARTY);
    const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
    // Saved earlier, when Lise was not yet born: no benefit then.
    const saved = { applicant: { name: 'Kari' }, children: [{ name: 'Lise', birthYear: year - 1 }], numberOfChildren: 1, monthlyBenefit: 0 };
    const written = await h.storage.app.inject({
      method: 'PUT',
      url: `${STORAGE_API}/instances/${instance.id}/data/${form.id}`,
      // As the app wrote it then (a party alone may not write form data in storage).
      headers: { ...viaApp(h.storage, owner, h.appId), 'content-type': 'application/json' },
      payload: saved,
    });
    expect(written.statusCode).toBe(200);

    const read = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${form.id}`, headers: owner });
    expect(read.json()).toEqual({ ...saved, monthlyBenefit: 1766 });
    const stored = await h.storage.app.inject({ url: `${STORAGE_API}/instances/${instance.id}/data/${form.id}`, headers: owner });
    expect(stored.json()).toEqual(saved);
  });
});
