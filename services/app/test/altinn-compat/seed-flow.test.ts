/**
 * Done-when of "Altinn 3 wire compatibility": a client written from Altinn's public model names (altinn-client.ts,
 * which imports nothing of this platform) runs the seed flow over real HTTP against the real token service, app
 * service and storage. An end-user system instantiates, puts form data, validates and moves the process to its
 * end; the org then queries with `process.isComplete=true&excludeConfirmedBy=`, downloads and confirms.
 */
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { Scopes } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../../storage/test/support/storage-harness';
import { AUDIENCE, ISSUER, startAuth, type AuthHarness } from '../../../auth/test/support/auth-harness';
import { startApp, type AppHarness } from '../support/app-harness';
import { AltinnAppClient, AltinnHttpError, AltinnStorageClient, ValidationIssueSeverity, type Instance } from './altinn-client';

const { instancesRead, instancesWrite, serviceOwnerRead, serviceOwnerWrite } = Scopes;

let auth: AuthHarness;
let h: AppHarness;
let appUrl: string;

/** Client credentials with a secret at the token service, over HTTP. */
async function clientToken(clientId: string, secret: string, scope: string): Promise<string> {
  const response = await fetch(`${auth.url}/authentication/api/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  if (response.status !== 200) throw new Error(`token for ${clientId}: ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function registered(registration: Record<string, unknown>, scope: string): Promise<string> {
  const client = await auth.registerClient(registration);
  return clientToken(client.clientId, client.clientSecret as string, scope);
}

beforeAll(async () => {
  auth = await startAuth({ listen: true });
  const appToken = await registered(
    { clientId: 'skd-tax-return-app', kind: 'org', org: 'skd', orgNumber: '974761076', app: 'skd/tax-return', scopes: [serviceOwnerRead, serviceOwnerWrite] },
    `${serviceOwnerRead} ${serviceOwnerWrite}`,
  );
  h = await startApp('skd/tax-return', { storageEnv: { JWKS_URL: `${auth.url}/.well-known/jwks.json`, TOKEN_ISSUER: ISSUER, TOKEN_AUDIENCE: AUDIENCE }, appToken });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  appUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/skd/tax-return`;
});
afterAll(async () => {
  await h.close();
  await auth.close();
});

test('an Altinn client files a tax return through the app; the org collects and confirms it in storage', async () => {
  const systemToken = await registered(
    { clientId: 'altinn-accounting', kind: 'system', partyId: SYSTEM_PARTY, scopes: [instancesRead, instancesWrite] },
    `${instancesRead} ${instancesWrite}`,
  );
  const app = new AltinnAppClient(appUrl, () => systemToken);

  // Instantiate with Altinn's Instance template.
  const created = await app.instantiate(SYSTEM_PARTY, { instanceOwner: { partyId: SYSTEM_PARTY } });
  expect(created).toMatchObject({ appId: 'skd/tax-return', org: 'skd', instanceOwner: { partyId: SYSTEM_PARTY } });
  expect(created.process?.currentTask).toMatchObject({ elementId: 'Task_1', altinnTaskType: 'data' });
  const instance = await app.getInstance(created.id);
  expect(instance.id).toBe(created.id);
  const form = instance.data?.find((element) => element.dataType === 'model');
  if (!form) throw new Error('the instance has no form data element');

  // The kind of a deduction comes from the app's code list (OptionsController).
  const kinds = await app.getOptions('deduction-kinds', 'nb');
  const other = kinds.find((option) => option.value === 'other');
  if (!other) throw new Error("the deduction-kinds code list has no 'other'");
  expect(other.label).toBe('deductionKind.other');

  // PUT form data: a CalculationResult (the data element with the changed fields).
  const calculation = await app.putFormData(instance.id, form.id, { income: 500_000, deductions: [{ description: 'Office', kind: other.value, amount: 100_000 }] });
  expect(calculation).toMatchObject({ id: form.id, dataType: 'model' });
  expect(calculation.changedFields).toEqual({ taxableIncome: 400_000, tax: 88_000 });
  expect(await app.getFormData(instance.id, form.id)).toMatchObject({ tax: 88_000 });

  // Validate: no issue of severity Error.
  const issues = await app.validateInstance(instance.id);
  expect(issues.filter((issue) => issue.severity === ValidationIssueSeverity.Error)).toEqual([]);

  // process/next to the end, each answer a ProcessState.
  const confirmTask = await app.processNext(instance.id, { action: 'submit' });
  expect(confirmTask.currentTask).toMatchObject({ elementId: 'Task_2', altinnTaskType: 'confirmation' });
  const ended = await app.processNext(instance.id, { action: 'confirm' });
  expect(ended).toMatchObject({ endEvent: 'EndEvent_1', currentTask: null });
  expect(ended.ended).toEqual(expect.any(String));
  const again = await app.processNext(instance.id).catch((error: unknown) => error);
  expect(again).toBeInstanceOf(AltinnHttpError);
  expect((again as AltinnHttpError).status).toBe(409);

  // Next year's return starts as a copy of this one (InstansiationInstance.sourceInstanceId): the deductions without
  // their amounts, no income, the prefill set (sent as text, as Altinn's Dictionary<string, string>; typed by the model).
  const copy = await app.create({ instanceOwner: { partyId: SYSTEM_PARTY }, sourceInstanceId: instance.id, prefill: { taxYear: '2026' } });
  expect(copy.process?.currentTask).toMatchObject({ elementId: 'Task_1' });
  const copiedForm = copy.data?.find((element) => element.dataType === 'model');
  if (!copiedForm) throw new Error('the copy has no form data element');
  expect(await app.getFormData(copy.id, copiedForm.id)).toEqual({ deductions: [{ description: 'Office', kind: 'other' }], taxableIncome: 0, tax: 0, taxYear: 2026 });

  // The org's integration: query, download, confirm.
  const orgToken = await registered(
    { clientId: 'skd-archive', kind: 'org', org: 'skd', orgNumber: '974761076', scopes: [serviceOwnerRead, serviceOwnerWrite] },
    `${serviceOwnerRead} ${serviceOwnerWrite}`,
  );
  const storage = new AltinnStorageClient(h.storageUrl, () => orgToken);
  const query = { appId: 'skd/tax-return', 'process.isComplete': 'true', excludeConfirmedBy: 'skd' };
  const pending: Instance[] = await storage.getInstances(query);
  const collected = pending.find((candidate) => candidate.id === instance.id);
  expect(collected?.process?.endEvent).toBe('EndEvent_1');
  for (const element of collected?.data ?? []) {
    const content = await storage.getData(instance.id, element.id);
    expect(content.length).toBe(element.size);
    expect(createHash('sha256').update(content).digest('hex')).toBe(element.contentHash);
    if (element.dataType === 'model') expect(JSON.parse(content.toString('utf8'))).toMatchObject({ income: 500_000, tax: 88_000 });
  }
  const confirmed = await storage.addCompleteConfirmation(instance.id);
  expect(confirmed.completeConfirmations).toEqual([expect.objectContaining({ stakeholderId: 'skd', confirmedOn: expect.any(String) })]);
  expect((await storage.getInstances(query)).map((candidate) => candidate.id)).not.toContain(instance.id);
});
