/**
 * Malware scanning as the app's users see it (nav/child-benefit's proof attachments have enableFileScan), with the
 * real storage behind the app and a real clamd: the app API shows fileScanResult, an infected file is never served
 * through the app, and validate / process/next report pending and infected files of the task.
 */
import net from 'node:net';
import type { DataElement, Instance } from '@forms/contracts';
import { describeWithClamd } from '@forms/test-support';
import { OWNER_PARTY } from '../../storage/test/support/storage-harness';
import { EICAR, EICAR_SIGNATURE, pdfWithStream } from '../../storage/test/support/malware-samples';
import { startApp, type AppHarness } from './support/app-harness';
import { createInstance, expectProblem, PDF } from './support/fixtures';

const year = new Date().getFullYear();
const FORM = `<?xml version="1.0" encoding="UTF-8"?>
<ChildBenefit>
  <applicant><name>Kari Nordmann</name><personNumber>01017012345</personNumber><monthlyIncome>60000</monthlyIncome></applicant>
  <children><name>Lise</name><birthYear>${year - 4}</birthYear></children>
</ChildBenefit>`;
const INFECTED_PDF = pdfWithStream(Buffer.concat([Buffer.from('BT ('), EICAR, Buffer.from(') Tj ET')]));

async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return String(port);
}

async function filledInstance(h: AppHarness, owner: Record<string, string>): Promise<Instance> {
  const instance = await createInstance(h, owner, OWNER_PARTY);
  const form = instance.data.find((d) => d.dataType === 'model') as DataElement;
  const saved = await h.app.inject({
    method: 'PUT',
    url: `${h.base}/instances/${instance.id}/data/${form.id}`,
    headers: { ...owner, 'content-type': 'application/xml' },
    payload: FORM,
  });
  expect(saved.statusCode).toBe(200);
  return instance;
}

const uploadProof = (h: AppHarness, owner: Record<string, string>, instance: Instance, content: Buffer) =>
  h.app.inject({
    method: 'POST',
    url: `${h.base}/instances/${instance.id}/data?dataType=proof`,
    headers: { ...owner, 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="payslip.pdf"' },
    payload: content,
  });

const errorCodes = async (h: AppHarness, owner: Record<string, string>, instance: Instance) =>
  (await h.app.inject({ url: `${h.base}/instances/${instance.id}/validate`, headers: owner }))
    .json<Array<{ severity: number; code: string }>>()
    .filter((issue) => issue.severity === 1)
    .map((issue) => issue.code);

const scanResult = (h: AppHarness, headers: Record<string, string>, instance: Instance) =>
  h.app.inject({ url: `${h.base}/instances/${instance.id}/filescanresult`, headers });

describeWithClamd('file scanning through the app service', (clamd) => {
  describe('with clamd answering', () => {
    let h: AppHarness;
    let owner: Record<string, string>;
    beforeAll(async () => {
      h = await startApp('nav/child-benefit', { storageEnv: { CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port), SCAN_WORKER_INTERVAL_SECONDS: '0', SCAN_VERDICT_WAIT_MS: '60000' } });
      owner = h.storage.auth.owner;
    });
    afterAll(() => h.close());

    it('an infected PDF is Infected, never downloadable through the app, and blocks the task until deleted', async () => {
      const instance = await filledInstance(h, owner);
      const uploaded = await uploadProof(h, owner, instance, INFECTED_PDF);
      expect(uploaded.statusCode).toBe(201);
      const element = uploaded.json<DataElement>();
      // The party learns that its file is infected; the signature name is for the org, in storage.
      expect(element).toMatchObject({ fileScanResult: 'Infected' });
      expect(element.fileScanSignature).toBeUndefined();
      const asOrg = await h.storage.app.inject({ url: `/storage/api/v1/instances/${instance.id}`, headers: h.storage.auth.nav });
      expect(asOrg.json<Instance>().data.find((d) => d.id === element.id)).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });

      const shown = await h.app.inject({ url: `${h.base}/instances/${instance.id}`, headers: owner });
      const shownElement = shown.json<Instance>().data.find((d) => d.id === element.id);
      expect(shownElement).toMatchObject({ fileScanResult: 'Infected' });
      expect(shownElement?.fileScanSignature).toBeUndefined();
      const download = await h.app.inject({ url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: owner });
      expect(download.statusCode).toBe(409);
      expect(download.rawPayload.includes(EICAR)).toBe(false);

      expect(await errorCodes(h, owner, instance)).toEqual(['DataElementFileInfected']);
      // Altinn's filescanresult: the form is not scanned, so only the file is listed; one infected file makes the whole Infected.
      expect((await scanResult(h, owner, instance)).json()).toEqual({ id: instance.id, fileScanResult: 'Infected', data: [{ id: element.id, fileScanResult: 'Infected' }] });
      const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
      const problem = expectProblem(next, 409, 'VALIDATION_FAILED');
      expect(problem.validationIssues).toEqual([expect.objectContaining({ code: 'DataElementFileInfected', dataElementId: element.id })]);

      const removed = await h.app.inject({ method: 'DELETE', url: `${h.base}/instances/${instance.id}/data/${element.id}`, headers: owner });
      expect(removed.statusCode).toBe(204);
      const clean = await uploadProof(h, owner, instance, PDF);
      expect(clean.json<DataElement>().fileScanResult).toBe('Clean');
      expect((await scanResult(h, owner, instance)).json()).toEqual({ id: instance.id, fileScanResult: 'Clean', data: [{ id: clean.json<DataElement>().id, fileScanResult: 'Clean' }] });
      // Another party's instance is not found, as the instance itself is not.
      expect((await scanResult(h, h.storage.auth.otherOwner, instance)).statusCode).toBe(404);
      expect(await errorCodes(h, owner, instance)).toEqual([]);
      const moved = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
      expect(moved.statusCode).toBe(200);
    });
  });

  describe('with clamd down', () => {
    let h: AppHarness;
    let owner: Record<string, string>;
    beforeAll(async () => {
      h = await startApp('nav/child-benefit', { storageEnv: { CLAMD_HOST: clamd.host, CLAMD_PORT: await closedPort(), SCAN_WORKER_INTERVAL_SECONDS: '0' } });
      owner = h.storage.auth.owner;
    });
    afterAll(() => h.close());

    it('a Pending file makes validate report ValidationErrorOnPendingFileScan and process/next wait', async () => {
      const instance = await filledInstance(h, owner);
      const element = (await uploadProof(h, owner, instance, PDF)).json<DataElement>();
      expect(element.fileScanResult).toBe('Pending');
      expect(await errorCodes(h, owner, instance)).toEqual(['ValidationErrorOnPendingFileScan']);
      expect((await scanResult(h, owner, instance)).json()).toMatchObject({ fileScanResult: 'Pending', data: [{ id: element.id, fileScanResult: 'Pending' }] });
      const next = await h.app.inject({ method: 'PUT', url: `${h.base}/instances/${instance.id}/process/next`, headers: owner });
      expect(expectProblem(next, 409, 'VALIDATION_FAILED').validationIssues).toEqual([
        expect.objectContaining({ code: 'ValidationErrorOnPendingFileScan', dataElementId: element.id }),
      ]);
      const process = await h.app.inject({ url: `${h.base}/instances/${instance.id}/process`, headers: owner });
      expect(process.json()).toMatchObject({ currentTask: { elementId: 'Task_1' } });
    });
  });
});
