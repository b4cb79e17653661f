/**
 * `forms-cli sync` with malware scanning in storage (a real clamd, every upload scanned): an infected file the org
 * can never download is left out and said so on stderr, the rest of the instance is archived and confirmed; the
 * SDK's elements carry fileScanResult, and the CLI shows it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClamd } from '@forms/test-support';
import { DomainError } from '@forms/contracts';
import { AppClient } from '@forms/client';
import { EICAR, EICAR_SIGNATURE, pdfWithStream } from '../../../services/storage/test/support/malware-samples';
import { MARKER_FILE, type SyncReport } from '../src';
import { pdf, runCli, startTaxReturns, type TaxReturnStack } from './support/cli-harness';

describeWithClamd('sync with malware scanning', (clamd) => {
  let stack: TaxReturnStack;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startTaxReturns({ CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port), SCAN_ALL_UPLOADS: 'true', SCAN_WORKER_INTERVAL_SECONDS: '0', SCAN_VERDICT_WAIT_MS: '60000' });
    dir = mkdtempSync(join(tmpdir(), 'forms-sync-scan-'));
    env = { FORMS_CONFIG_DIR: join(dir, '.config'), FORMS_STORAGE_URL: stack.storageUrl, FORMS_TOKEN: stack.skd };
  }, 60_000);
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips the infected file and says so, archives and confirms the rest', async () => {
    const instanceId = await stack.submitReturn('50031', 300_000, [pdf(5000)]);
    // skd adds a file to the submitted return (the app owner still may); it carries malware.
    const infected = await stack.storage.uploadData(stack.skd, instanceId, 'receipt', pdfWithStream(Buffer.concat([Buffer.from('BT ('), EICAR, Buffer.from(') Tj ET')])), {
      contentType: 'application/pdf',
      filename: 'scan.pdf',
    });
    expect(infected).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
    const error = await stack.storage.downloadData(stack.skd, instanceId, infected.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('DATA_ELEMENT_INFECTED');


    const result = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'out'), '--json'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`skipped infected receipt ${infected.id} (scan.pdf) of ${instanceId}: ${EICAR_SIGNATURE}`);
    const report = result.json<SyncReport>();
    expect(report).toMatchObject({ downloaded: 1, confirmed: 1, scanPending: [] });
    expect(report.infected).toEqual([{ instanceId, dataId: infected.id, dataType: 'receipt', filename: 'scan.pdf', signature: EICAR_SIGNATURE }]);

    const folder = join(dir, 'out', ...instanceId.split('/'));
    const files = await readdir(folder);
    expect(files).not.toContain('scan.pdf');
    expect(files.sort()).toEqual(['.synced.json', 'instance.json', 'model.json', 'receipt-1.pdf'].sort());
    const marker = JSON.parse(await readFile(join(folder, MARKER_FILE), 'utf8')) as { files: Array<{ dataId: string }> };
    expect(marker.files.map((f) => f.dataId)).not.toContain(infected.id);

    const human = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(dir, 'out')], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('0 downloaded');
  });

  it('data upload shows the scan verdict of the uploaded file', async () => {
    const person = stack.personToken('50032');
    const instance = await new AppClient({ baseUrl: stack.appUrl, appId: 'skd/tax-return', token: person }).createInstance({}, { partyId: '50032' });
    const files = mkdtempSync(join(tmpdir(), 'forms-scan-upload-'));
    try {
      writeFileSync(join(files, 'clean.pdf'), pdf(3000));
      writeFileSync(join(files, 'bad.pdf'), pdfWithStream(Buffer.concat([Buffer.from('BT ('), EICAR, Buffer.from(') Tj ET')])));
      const upload = (file: string) =>
        runCli(['data', 'upload', '--app', 'skd/tax-return', '--instance', instance.id, '--type', 'receipt', '--file', join(files, file)], {
          env: { ...env, FORMS_APP_URL: stack.appUrl, FORMS_TOKEN: person },
        });
      expect((await upload('clean.pdf')).stdout).toContain('[scan: Clean]');
      // A party is told that its file is infected; the signature name is for the org (sync shows it there).
      const infected = (await upload('bad.pdf')).stdout;
      expect(infected).toContain('[scan: Infected]');
      expect(infected).not.toContain(EICAR_SIGNATURE);
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
  });

  describe('with clamd down', () => {
    let down: TaxReturnStack;
    let downDir: string;
    beforeAll(async () => {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as net.AddressInfo;
      await new Promise((resolve) => probe.close(resolve));
      down = await startTaxReturns({ CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(port), SCAN_WORKER_INTERVAL_SECONDS: '0' });
      downDir = mkdtempSync(join(tmpdir(), 'forms-sync-pending-'));
    }, 60_000);
    afterAll(async () => {
      await down.close();
      rmSync(downDir, { recursive: true, force: true });
    });

    it('leaves an instance whose file awaits its scan for a later run, unconfirmed, and says so', async () => {
      const instanceId = await down.submitReturn('50033', 100_000);
      const pending = await down.storage.uploadData(down.skd, instanceId, 'receipt', pdf(2000), { contentType: 'application/pdf', filename: 'late.pdf' });
      expect(pending.fileScanResult).toBe('Pending');
      const result = await runCli(['sync', '--app', 'skd/tax-return', '--dir', join(downDir, 'out'), '--json'], {
        env: { FORMS_CONFIG_DIR: join(downDir, '.config'), FORMS_STORAGE_URL: down.storageUrl, FORMS_TOKEN: down.skd },
      });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`left ${instanceId} for a later run: a file is still being scanned for malware`);
      expect(result.json<SyncReport>()).toMatchObject({ downloaded: 0, confirmed: 0, scanPending: [instanceId] });
      const stillUnconfirmed = await down.storage.getInstance(down.skd, instanceId);
      expect(stillUnconfirmed.value.completeConfirmations).toEqual([]);
    });
  });
});
