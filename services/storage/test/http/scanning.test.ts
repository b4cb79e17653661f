import http from 'node:http';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { DataElement, Instance, InstanceEvent } from '@forms/contracts';
import { describeWithClamd } from '@forms/test-support';
import { API, appOwnToken, createInstance, instanceUrl, OWNER_PARTY, startStorage, viaApp, storedSize, type StorageHarness } from '../support/storage-harness';
import { CLEAN_PDF, EICAR, EICAR_SIGNATURE, pdfWithStream, zipOf } from '../support/malware-samples';
import { download, elementNow, registerScannedApp, upload } from '../support/scanning-harness';
import { blobPrefixOf, listStoredBlobs } from '../support/blob-listing';
import { pseudoRandomStream, sha256 } from '../support/streams';

const closedPort = async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return String(port);
};

describe('without a scanner configured (embedded default)', () => {
  let h: StorageHarness;
  beforeAll(async () => {
    h = await startStorage('embedded');
    await registerScannedApp(h);
  });
  afterAll(() => h.close());

  it('stores uploads as NotApplicable, even for data types with enableFileScan, and /ready lists no scanner', async () => {
    const instance = await createInstance(h, { appId: 'nav/scanned' });
    const response = await upload(h, instance, 'scanned', 'hello');
    expect(response.statusCode).toBe(201);
    expect(response.json<DataElement>().fileScanResult).toBe('NotApplicable');
    expect((await h.app.inject({ method: 'GET', url: '/ready' })).json().checks).toEqual({ metadata: 'ok', blobs: 'ok' });
  });
});

describeWithClamd('malware scanning with a real clamd', (clamd) => {
  // Uploads wait for the verdict here (however loaded the machine); the answer-Pending-first path has its own test.
  const clamdEnv = { CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port), SCAN_WORKER_INTERVAL_SECONDS: '0', SCAN_VERDICT_WAIT_MS: '60000' };

  describe.each(['embedded', 'mongo-s3'] as const)('on the %s adapters', (adapters) => {
    let h: StorageHarness;
    beforeAll(async () => {
      h = await startStorage(adapters, clamdEnv);
      await registerScannedApp(h);
    });
    afterAll(() => h.close());

    it.each([
      ['plain', EICAR, 'text/plain'],
      ['inside a zip', zipOf('invoice.txt', EICAR), 'application/zip'],
      ['inside a PDF stream', pdfWithStream(Buffer.concat([Buffer.from('BT ('), EICAR, Buffer.from(') Tj ET')])), 'application/pdf'],
    ])('marks EICAR %s Infected and never serves it: not to the party, the app, the org or a read-only org', async (_what, content, contentType) => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const response = await upload(h, instance, 'scanned', content, contentType);
      expect(response.statusCode).toBe(201);
      const element = response.json<DataElement>();
      // The party who uploaded it learns that it is infected; the signature name is for the org.
      expect(element).toMatchObject({ fileScanResult: 'Infected' });
      expect(element.fileScanSignature).toBeUndefined();
      const asOrg = await elementNow(h, instance, element);
      expect(asOrg).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
      expect(Date.parse(asOrg.fileScanTime as string)).toBeGreaterThan(Date.now() - 60_000);

      const party = h.auth.owner;
      const appForParty = viaApp(h, party, 'nav/scanned');
      const appItself = appOwnToken(h, 'nav/scanned');
      for (const headers of [party, appForParty, appItself, h.auth.nav, h.auth.navReadOnly]) {
        const refused = await download(h, instance, element, headers);
        expect(refused.statusCode).toBe(409);
        expect(refused.headers['content-type']).toContain('application/problem+json');
        expect(refused.json()).toMatchObject({ code: 'DATA_ELEMENT_INFECTED' });
        expect(refused.body).not.toContain('EICAR');
      }
      const ranged = await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/data/${element.id}`, headers: { ...h.auth.nav, range: 'bytes=0-3' } });
      expect(ranged.statusCode).toBe(409);

      // Deleted by default, and the org finds the reason in the audit log.
      expect(await storedSize(h.app.storage.context, element.blobStoragePath)).toBeNull();
      const events = (await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/events`, headers: h.auth.nav })).json<{ instanceEvents: InstanceEvent[] }>();
      expect(events.instanceEvents.map((e) => [e.eventType, e.dataId])).toEqual([
        ['Created', undefined],
        ['DataCreated', element.id],
        ['DataFileScanInfected', element.id],
      ]);
    });

    it('scans initial data sent inline with a new instance (JSON) as it scans any upload', async () => {
      const response = await h.app.inject({
        method: 'POST',
        url: `${API}/instances?appId=nav/scanned`,
        headers: viaApp(h, h.auth.owner, 'nav/scanned'),
        payload: {
          instanceOwner: { partyId: OWNER_PARTY },
          data: [EICAR, 'Dear tax office'].map((content) => ({ dataType: 'scanned', contentType: 'text/plain', content: Buffer.from(content).toString('base64') })),
        },
      });
      expect(response.statusCode).toBe(201);
      expect(response.json<Instance>().data.map((element) => element.fileScanResult)).toEqual(['Infected', 'Clean']);
    });

    it.each([
      ['a PDF', CLEAN_PDF, 'application/pdf'],
      ['a zip', zipOf('receipt.txt', Buffer.from('receipt')), 'application/zip'],
      ['text', 'Dear tax office', 'text/plain'],
    ])('marks %s Clean and serves it byte for byte', async (_what, content, contentType) => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const element = (await upload(h, instance, 'scanned', content, contentType)).json<DataElement>();
      expect(element).toMatchObject({ fileScanResult: 'Clean' });
      expect(element.fileScanSignature).toBeUndefined();
      const served = await download(h, instance, element, h.auth.owner);
      expect(served.statusCode).toBe(200);
      expect(sha256(served.rawPayload)).toBe(sha256(content));
    });

    it('leaves data types without enableFileScan NotApplicable, and rescans replaced content', async () => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const plain = (await upload(h, instance, 'unscanned', EICAR, 'text/plain')).json<DataElement>();
      expect(plain.fileScanResult).toBe('NotApplicable');

      const scanned = (await upload(h, instance, 'scanned', 'clean at first', 'text/plain')).json<DataElement>();
      expect(scanned.fileScanResult).toBe('Clean');
      const replaced = await h.app.inject({
        method: 'PUT',
        url: `${instanceUrl(instance)}/data/${scanned.id}`,
        headers: { ...h.auth.owner, 'content-type': 'text/plain' },
        payload: EICAR,
      });
      expect(replaced.json<DataElement>()).toMatchObject({ fileScanResult: 'Infected', version: 2 });
      expect(await elementNow(h, instance, scanned)).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE, version: 2 });
      expect((await download(h, instance, scanned, h.auth.owner)).statusCode).toBe(409);
    });

    it('shows the signature name to the org and the app acting as it, never to the party or the app acting for the party', async () => {
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const infected = (await upload(h, instance, 'scanned', EICAR, 'text/plain')).json<DataElement>();
      const party = h.auth.owner;
      const signatureSeenBy = async (headers: Record<string, string>) => {
        const read = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers });
        expect(read.statusCode).toBe(200);
        const element = read.json<{ data: DataElement[] }>().data.find((d) => d.id === infected.id);
        expect(element?.fileScanResult).toBe('Infected');
        return element?.fileScanSignature;
      };
      expect(await signatureSeenBy(h.auth.nav)).toBe(EICAR_SIGNATURE);
      expect(await signatureSeenBy(h.auth.navReadOnly)).toBe(EICAR_SIGNATURE);
      expect(await signatureSeenBy(appOwnToken(h, 'nav/scanned'))).toBe(EICAR_SIGNATURE);
      expect(await signatureSeenBy(party)).toBeUndefined();
      expect(await signatureSeenBy(viaApp(h, party, 'nav/scanned'))).toBeUndefined();

      // Queries too: the org's page names it, the party's does not.
      const pageFor = async (headers: Record<string, string>, query: string) =>
        (await h.app.inject({ method: 'GET', url: `${API}/instances?${query}`, headers })).json<{ instances: Array<{ id: string; data: DataElement[] }> }>();
      const inPage = (page: { instances: Array<{ id: string; data: DataElement[] }> }) =>
        page.instances.find((i) => i.id === instance.id)?.data.find((d) => d.id === infected.id);
      expect(inPage(await pageFor(h.auth.nav, 'appId=nav/scanned&size=1000'))).toMatchObject({ fileScanSignature: EICAR_SIGNATURE });
      const partyView = inPage(await pageFor(party, `instanceOwner.partyId=${instance.instanceOwner.partyId}&size=1000`));
      expect(partyView).toMatchObject({ fileScanResult: 'Infected' });
      expect(partyView?.fileScanSignature).toBeUndefined();
      expect(JSON.stringify(await pageFor(party, `instanceOwner.partyId=${instance.instanceOwner.partyId}&size=1000`))).not.toContain(EICAR_SIGNATURE);

      // Altinn's list of an instance's data elements too.
      const listed = async (headers: Record<string, string>) =>
        (await h.app.inject({ method: 'GET', url: `${instanceUrl(instance)}/dataelements`, headers })).json<{ dataElements: DataElement[] }>().dataElements.find((d) => d.id === infected.id);
      expect(await listed(h.auth.nav)).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
      expect(await listed(party)).toMatchObject({ fileScanResult: 'Infected' });
      expect((await listed(party))?.fileScanSignature).toBeUndefined();

      // The stored element keeps it; hiding it from one caller changes nothing for the next.
      expect(await signatureSeenBy(h.auth.nav)).toBe(EICAR_SIGNATURE);
    });

    it('shows the scanner on /ready', async () => {
      const ready = await h.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.json()).toEqual({ status: 'ok', checks: { metadata: 'ok', blobs: 'ok', 'malware-scanner': 'ok' } });
    });
  });

  describe('configuration', () => {
    const harnesses: StorageHarness[] = [];
    const start = async (env: Record<string, string>) => {
      const h = await startStorage('embedded', { ...clamdEnv, ...env });
      harnesses.push(h);
      await registerScannedApp(h);
      return h;
    };
    afterAll(async () => {
      for (const h of harnesses) await h.close();
    });

    it('SCAN_ALL_UPLOADS scans data types without enableFileScan too', async () => {
      const h = await start({ SCAN_ALL_UPLOADS: 'true' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      expect((await upload(h, instance, 'unscanned', EICAR)).json<DataElement>().fileScanResult).toBe('Infected');
      expect((await upload(h, instance, 'unscanned', 'fine')).json<DataElement>().fileScanResult).toBe('Clean');
    });

    it('a verdict later than SCAN_VERDICT_WAIT_MS: the upload is answered Pending and the verdict recorded when it comes', async () => {
      const h = await start({ SCAN_VERDICT_WAIT_MS: '0' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const element = (await upload(h, instance, 'scanned', Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 7), EICAR]))).json<DataElement>();
      expect(element.fileScanResult).toBe('Pending');
      let current = element;
      for (let i = 0; i < 150 && current.fileScanResult === 'Pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        current = await elementNow(h, instance, element);
      }
      // No worker runs here (SCAN_WORKER_INTERVAL_SECONDS=0): the upload's own scan recorded this.
      expect(current).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
      // Its job goes right after the verdict is recorded.
      const queued = () => h.app.storage.context.store.scanQueue.listDue('9999-01-01T00:00:00.000Z', 10);
      for (let i = 0; i < 50 && (await queued()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await queued()).toEqual([]);
      expect((await download(h, instance, element, h.auth.nav)).json()).toMatchObject({ code: 'DATA_ELEMENT_INFECTED' });
    });

    it('an upload above SCAN_VERDICT_WAIT_MAX_MB is answered Pending without waiting, and its verdict recorded when it comes', async () => {
      // A wait long enough to fail the test if the large upload waited; the small one still gets its verdict at once.
      const h = await start({ SCAN_VERDICT_WAIT_MS: '60000', SCAN_VERDICT_WAIT_MAX_MB: '1' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const started = Date.now();
      const large = (await upload(h, instance, 'scanned', Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 7), EICAR]))).json<DataElement>();
      expect(large.fileScanResult).toBe('Pending');
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await upload(h, instance, 'scanned', EICAR)).json<DataElement>().fileScanResult).toBe('Infected');
      let current = large;
      for (let i = 0; i < 150 && current.fileScanResult === 'Pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        current = await elementNow(h, instance, large);
      }
      expect(current).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
    });

    it('SCAN_INFECTED_BLOBS=quarantine keeps the blob for inspection, still never served', async () => {
      const h = await start({ SCAN_INFECTED_BLOBS: 'quarantine' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const element = (await upload(h, instance, 'scanned', EICAR)).json<DataElement>();
      expect(await storedSize(h.app.storage.context, element.blobStoragePath)).toBe(EICAR.length);
      expect((await download(h, instance, element, h.auth.nav)).json()).toMatchObject({ code: 'DATA_ELEMENT_INFECTED' });
    });

    it('above the stream limit an upload to a scanned type is refused (413) and nothing is stored', async () => {
      const h = await start({ CLAMD_STREAM_MAX_MB: '1' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const big = Buffer.alloc(1024 * 1024 + 1, 1);
      const refused = await upload(h, instance, 'scanned', big);
      expect(refused.statusCode).toBe(413);
      expect(refused.json()).toMatchObject({ code: 'DATA_TOO_LARGE_TO_SCAN' });
      expect(await elementCount(h, instance)).toBe(0);
      expect((await upload(h, instance, 'unscanned', big)).statusCode).toBe(201);
    });

    it('a stream without a declared length is refused (413) once it passes the stream limit, and nothing is kept', async () => {
      const h = await start({ CLAMD_STREAM_MAX_MB: '1' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const url = `${await h.app.listen({ host: '127.0.0.1', port: 0 })}${instanceUrl(instance)}/data?dataType=scanned`;
      // Chunked, 4 MB in 64 KiB pieces: only the stream itself can tell that it is too large to scan.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(url, { method: 'POST', headers: { ...h.auth.owner, 'content-type': 'application/octet-stream' } }, (response) => {
          let body = '';
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        pipeline(pseudoRandomStream(4 * 1024 * 1024, 5), request).catch(() => undefined);
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'DATA_TOO_LARGE_TO_SCAN' });
      expect(await elementCount(h, instance)).toBe(0);
      expect(await listStoredBlobs(h.config, blobPrefixOf(instance))).toEqual([]);
      expect(await h.app.storage.context.store.pendingUploads.listStartedBefore('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
    });

    it('scanner down: the upload is Pending, served to no party, to the org only if configured; /ready reports it, still ready', async () => {
      const port = await closedPort();
      const h = await start({ CLAMD_PORT: port, CLAMD_TIMEOUT_MS: '500' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const element = (await upload(h, instance, 'scanned', 'maybe bad')).json<DataElement>();
      expect(element.fileScanResult).toBe('Pending');
      expect(element.fileScanTime).toBeUndefined();
      expect((await download(h, instance, element, h.auth.owner)).json()).toMatchObject({ code: 'DATA_ELEMENT_SCAN_PENDING' });
      expect((await download(h, instance, element, h.auth.nav)).statusCode).toBe(409);
      // Reported on /ready, but storage stays ready: reads go on and uploads wait as Pending.
      const ready = await h.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks['malware-scanner']).toMatch(/^degraded: clamd 127\.0\.0\.1:\d+/);

      const lenient = await start({ CLAMD_PORT: port, SCAN_PENDING_SERVED_TO_ORG: 'true' });
      const other = await createInstance(lenient, { appId: 'nav/scanned' });
      const pending = (await upload(lenient, other, 'scanned', 'maybe bad')).json<DataElement>();
      expect((await download(lenient, other, pending, lenient.auth.nav)).statusCode).toBe(200);
      expect((await download(lenient, other, pending, lenient.auth.owner)).statusCode).toBe(409);
    });

    it('scanner down with SCAN_ON_SCANNER_FAILURE=refuse: 503, nothing stored', async () => {
      const h = await start({ CLAMD_PORT: await closedPort(), SCAN_ON_SCANNER_FAILURE: 'refuse' });
      const instance = await createInstance(h, { appId: 'nav/scanned' });
      const refused = await upload(h, instance, 'scanned', 'maybe bad');
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'MALWARE_SCANNER_UNAVAILABLE' });
      expect(await elementCount(h, instance)).toBe(0);
    });

    it('the worker finishes Pending elements once the scanner answers, and reschedules with backoff while it does not', async () => {
      const down = await start({ CLAMD_PORT: await closedPort(), SCAN_RETRY_INITIAL_SECONDS: '1' });
      const instance = await createInstance(down, { appId: 'nav/scanned' });
      const infected = (await upload(down, instance, 'scanned', EICAR)).json<DataElement>();
      const clean = (await upload(down, instance, 'scanned', 'fine')).json<DataElement>();
      expect([infected.fileScanResult, clean.fileScanResult]).toEqual(['Pending', 'Pending']);
      const ctx = down.app.storage.context;
      const [job] = await ctx.store.scanQueue.listDue('9999-01-01T00:00:00.000Z', 10);
      expect(job).toMatchObject({ attempts: 1 });

      // Still down: rescheduled later, attempts counted.
      await new Promise((r) => setTimeout(r, 1100));
      const { rescanPending } = await import('../../src/domain/scan-worker');
      expect(await rescanPending(ctx, down.app.storage.scanning)).toMatchObject({ stillPending: 2 });
      const jobs = await ctx.store.scanQueue.listDue('9999-01-01T00:00:00.000Z', 10);
      expect(jobs.map((j) => j.attempts)).toEqual([2, 2]);
      expect(Date.parse(jobs[0]!.due) - Date.now()).toBeGreaterThan(1000);

      // The scanner is back (the same stores, a scanner that answers): the worker completes both.
      const { Scanning } = await import('../../src/domain/scanning');
      const { createScanPolicy } = await import('../../src/adapters');
      const { loadStorageConfig } = await import('../../src/config');
      const up = new Scanning(ctx, createScanPolicy(loadStorageConfig({ ...clamdEnv })));
      const later = { ...ctx, clock: () => new Date(Date.now() + 3_600_000).toISOString() };
      expect(await rescanPending(later, new Scanning(later, up.policy))).toMatchObject({ scanned: 2 });
      expect(await elementNow(down, instance, infected)).toMatchObject({ fileScanResult: 'Infected', fileScanSignature: EICAR_SIGNATURE });
      expect(await elementNow(down, instance, clean)).toMatchObject({ fileScanResult: 'Clean' });
      expect(await ctx.store.scanQueue.listDue('9999-01-01T00:00:00.000Z', 10)).toEqual([]);
      expect(await storedSize(ctx, infected.blobStoragePath)).toBeNull();
      expect((await download(down, instance, clean, down.auth.owner)).statusCode).toBe(200);
    });
  });
});

async function elementCount(h: StorageHarness, instance: { id: string }): Promise<number> {
  const response = await h.app.inject({ method: 'GET', url: instanceUrl(instance), headers: h.auth.owner });
  return response.json<{ data: unknown[] }>().data.length;
}
