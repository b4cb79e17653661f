/**
 * Faults of malware scanning with the real daemon: clamd SIGKILLed in the middle of a scan, and the storage process
 * SIGKILLed with scans outstanding. Neither ever yields Clean for content that was not scanned whole: the element stays
 * Pending and the rescan worker finishes it once clamd (or storage) is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataElement, Instance } from '@forms/contracts';
import { Scopes } from '@forms/contracts';
import { describeWithClamd, eventually, freePort, PrivateClamd, TestIssuer } from '@forms/test-support';
import { EICAR, EICAR_SIGNATURE } from '../support/malware-samples';
import { SCANNED_APP } from '../support/scanning-harness';
import { createInstance, instanceUrl, OWNER_PARTY, registerApp, startStorage, type StorageHarness } from '../support/storage-harness';
import { StorageProcess } from '../support/storage-process';
import { pseudoRandomStream } from '../support/streams';

const MB = 1024 * 1024;

/** The element once its scan has a verdict (the rescan worker runs every few hundred ms). */
const scanFinished = (read: () => Promise<DataElement | undefined>) =>
  eventually(async () => {
    const element = await read();
    return element?.fileScanResult !== 'Pending' ? element : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200, what: 'a scan verdict' });

/** Uploads `first`, calls `between` (while the scan is under way), then sends `rest`; resolves with the answer. */
function uploadInTwoParts(url: string, token: string, first: Buffer, between: () => Promise<void>, rest: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' } }, (response) => {
      let body = '';
      response.on('data', (c) => (body += c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.write(first, () => {
      between().then(() => request.end(rest), reject);
    });
  });
}

async function chunked(size: number, seed: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of pseudoRandomStream(size, seed)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describeWithClamd('scan faults with the real clamd', () => {
  describe('clamd killed mid-scan', () => {
    let clamd: PrivateClamd;
    let h: StorageHarness;
    let storageUrl: string;
    beforeAll(async () => {
      clamd = await PrivateClamd.start(await freePort());
      h = await startStorage('embedded', {
        CLAMD_HOST: '127.0.0.1',
        CLAMD_PORT: String(clamd.port),
        CLAMD_TIMEOUT_MS: '2000',
        SCAN_RETRY_INITIAL_SECONDS: '1',
        SCAN_RETRY_MAX_SECONDS: '2',
        SCAN_WORKER_INTERVAL_SECONDS: '1',
      });
      await registerApp(h, 'nav/scanned', SCANNED_APP);
      storageUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
    }, 60_000);
    afterAll(async () => {
      await h?.close();
      await clamd?.stop();
    });

    it('leaves the element Pending (never Clean), and the worker completes it after clamd returns', async () => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const first = await chunked(4 * MB, 31);
      // The malware comes after the kill: only a rescan of the whole stored content can find it.
      const rest = Buffer.concat([await chunked(2 * MB, 32), EICAR]);
      const token = (h.auth.owner.authorization ?? '').slice('Bearer '.length);
      const response = await uploadInTwoParts(
        `${storageUrl}${instanceUrl(instance)}/data?dataType=scanned`,
        token,
        first,
        async () => {
          await new Promise((r) => setTimeout(r, 300)); // clamd is reading the first part
          clamd.kill('SIGKILL');
        },
        rest,
      );
      expect(response.status).toBe(201);
      const element = JSON.parse(response.body) as DataElement;
      expect(element.fileScanResult).toBe('Pending');
      expect(element.size).toBe(first.length + rest.length);

      await clamd.restart();
      const readElement = async () =>
        (await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.nav })).json<Instance>().data.find((d) => d.id === element.id);
      const finished = await scanFinished(readElement);
      expect(finished).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
    }, 60_000);

    it('killed while scanning a stream that has ended (the upload answered Pending): Pending until clamd returns, then the worker finishes it', async () => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      // Above SCAN_VERDICT_WAIT_MAX_MB: answered Pending as soon as it is stored, while clamd still scans (~1 s for 40 MB).
      const content = Buffer.concat([await chunked(40 * MB, 33), EICAR]);
      const token = (h.auth.owner.authorization ?? '').slice('Bearer '.length);
      const response = await uploadInTwoParts(`${storageUrl}${instanceUrl(instance)}/data?dataType=scanned`, token, content, async () => {}, Buffer.alloc(0));
      expect(response.status).toBe(201);
      const element = JSON.parse(response.body) as DataElement;
      expect(element.fileScanResult).toBe('Pending');
      await new Promise((r) => setTimeout(r, 100));
      const readElement = async () =>
        (await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.nav })).json<Instance>().data.find((d) => d.id === element.id);
      // Still scanning when it dies: no verdict yet.
      expect((await readElement())?.fileScanResult).toBe('Pending');
      clamd.kill('SIGKILL');

      // While clamd is gone the upload's own scan has failed and the worker's retries fail too: never Clean.
      await new Promise((r) => setTimeout(r, 2500));
      expect((await readElement())?.fileScanResult).toBe('Pending');
      const [job] = (await h.app.storage.context.store.scanQueue.listDue('9999-01-01T00:00:00.000Z', 10)).filter((j) => j.dataElementId === element.id);
      expect(job).toBeDefined();

      await clamd.restart();
      const finished = await scanFinished(readElement);
      expect(finished).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
    }, 90_000);
  });

  describe('storage killed with a scan outstanding', () => {
    let clamd: PrivateClamd;
    let issuer: TestIssuer;
    let dataDir: string;
    const processes: StorageProcess[] = [];
    beforeAll(async () => {
      clamd = await PrivateClamd.start(await freePort());
      issuer = await TestIssuer.start();
      dataDir = mkdtempSync(join(tmpdir(), 'storage-crash-'));
    }, 60_000);
    afterAll(async () => {
      for (const p of processes) await p.kill();
      await clamd?.stop();
      await issuer?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps the element Pending across the crash, and the restarted worker finishes it', async () => {
      const env = {
        DATA_DIR: dataDir,
        JWKS_URL: issuer.jwksUrl,
        TOKEN_ISSUER: issuer.issuer,
        CLAMD_HOST: '127.0.0.1',
        CLAMD_PORT: String(clamd.port),
        CLAMD_TIMEOUT_MS: '2000',
        SCAN_RETRY_INITIAL_SECONDS: '1',
        SCAN_WORKER_INTERVAL_SECONDS: '1',
        LOG_LEVEL: 'info',
      };
      const nav = { authorization: `Bearer ${issuer.orgToken({ org: 'nav', scopes: [Scopes.serviceOwnerRead, Scopes.serviceOwnerWrite] })}` };
      const owner = { authorization: `Bearer ${issuer.userToken({ userId: 1001, partyId: OWNER_PARTY, scopes: [Scopes.instancesRead, Scopes.instancesWrite] })}` };
      clamd.kill('SIGKILL');
      const first = await StorageProcess.start(env);
      processes.push(first);
      const api = first.baseUrl;
      expect((await fetch(`${api}/applications/nav/scanned`, { method: 'POST', headers: { ...nav, 'content-type': 'application/json' }, body: JSON.stringify(SCANNED_APP) })).status).toBe(201);
      const instance = (await (
        // Created by the app for the party (its own token beside the party's), as storage requires.
        await fetch(`${api}/instances?appId=nav/scanned`, {
          method: 'POST',
          headers: { ...owner, platformaccesstoken: issuer.appToken({ app: 'nav/scanned' }), 'content-type': 'application/json' },
          body: JSON.stringify({ instanceOwner: { partyId: OWNER_PARTY } }),
        })
      ).json()) as Instance;
      const content = Buffer.concat([await chunked(20 * MB, 41), EICAR]);
      const uploaded = await fetch(`${api}/instances/${instance.id}/data?dataType=scanned`, {
        method: 'POST',
        headers: { ...owner, 'content-type': 'application/octet-stream' },
        body: content,
      });
      const element = (await uploaded.json()) as DataElement;
      expect(element.fileScanResult).toBe('Pending');

      // clamd is back; storage dies while its worker may be rescanning the 20 MB (SIGKILL: no shutdown hooks).
      await clamd.restart();
      await new Promise((r) => setTimeout(r, 1200));
      await first.kill();

      const second = await StorageProcess.start(env);
      processes.push(second);
      const readElement = async () =>
        ((await (await fetch(`${second.baseUrl}/instances/${instance.id}`, { headers: nav })).json()) as Instance).data.find((d) => d.id === element.id);
      const finished = await scanFinished(readElement);
      expect(finished).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
      const download = await fetch(`${second.baseUrl}/instances/${instance.id}/data/${element.id}`, { headers: nav });
      expect(download.status).toBe(409);
    }, 120_000);
  });
});
