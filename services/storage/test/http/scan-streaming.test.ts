/**
 * A scanned upload streams to the scanner and the blob store at once, as it arrives, with bounded memory: nothing
 * waits for the whole upload before clamd gets its first bytes, and a large file is never held in memory.
 */
import { readdir, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DataElement } from '@forms/contracts';
import { describeWithClamd, peakRssGrowth } from '@forms/test-support';
import { createInstance, instanceUrl, startStorage, type StorageHarness } from '../support/storage-harness';
import { elementNow, registerScannedApp } from '../support/scanning-harness';
import { pseudoRandomStream, sha256Of } from '../support/streams';

const MB = 1024 * 1024;

/** Answers an upload sent by `send` (which writes the body and ends the request). */
function post(url: string, headers: Record<string, string>, send: (request: http.ClientRequest) => Promise<void>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' } }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    send(request).catch(reject);
  });
}

const write = (request: http.ClientRequest, data: Buffer) => new Promise<void>((resolve, reject) => request.write(data, (error) => (error ? reject(error) : resolve())));

/**
 * A clamd stand-in that counts the INSTREAM bytes it has received and answers `stream: OK` at the end. Not the real
 * daemon (that is below): it lets the test see how much content reached the scanner while the upload is under way.
 */
async function countingScanner(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    let commandSeen = false;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!commandSeen) {
        const end = pending.indexOf(0);
        if (end < 0) return;
        commandSeen = true;
        pending = pending.subarray(end + 1);
      }
      for (;;) {
        if (pending.length < 4) return;
        const length = pending.readUInt32BE(0);
        if (length === 0) {
          socket.end('stream: OK\0');
          return;
        }
        if (pending.length < 4 + length) return;
        received += length;
        pending = pending.subarray(4 + length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

describe('a scanned upload reaches the scanner and the blob store while it arrives', () => {
  let scanner: Awaited<ReturnType<typeof countingScanner>>;
  let h: StorageHarness;
  let baseUrl: string;
  beforeAll(async () => {
    scanner = await countingScanner();
    h = await startStorage('embedded', { CLAMD_HOST: '127.0.0.1', CLAMD_PORT: String(scanner.port), SCAN_WORKER_INTERVAL_SECONDS: '0' });
    await registerScannedApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h.close();
    await scanner.close();
  });

  it('the first 6 MB are with the scanner and in the blob being written before the client sends the rest', async () => {
    const instance = await createInstance(h, { appId: 'nav/scanned' });
    const first = Buffer.alloc(6 * MB, 1);
    const rest = Buffer.alloc(2 * MB, 2);
    const incoming = join(h.config.DATA_DIR, 'blobs', '.incoming');
    let midway = { scanned: 0, written: 0 };
    const answer = await post(`${baseUrl}${instanceUrl(instance)}/data?dataType=scanned`, h.auth.owner, async (request) => {
      await write(request, first);
      // Give both sides a moment to take in what has arrived; nothing more comes until they have.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const sizes = await Promise.all((await readdir(incoming)).filter((name) => name.endsWith('.tmp')).map(async (name) => (await stat(join(incoming, name))).size));
        midway = { scanned: scanner.received(), written: Math.max(0, ...sizes) };
        if ((midway.scanned >= 4 * MB && midway.written >= 4 * MB) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      request.end(rest);
    });
    expect(answer.status).toBe(201);
    expect(midway.scanned).toBeGreaterThanOrEqual(4 * MB);
    expect(midway.written).toBeGreaterThanOrEqual(4 * MB);
    expect(scanner.received()).toBe(first.length + rest.length);
    const element = JSON.parse(answer.body) as DataElement;
    expect(element.size).toBe(first.length + rest.length);
    // 8 MB is within SCAN_VERDICT_WAIT_MAX_MB: the stand-in's answer came within the wait.
    expect(element.fileScanResult).toBe('Clean');
  });
});

describeWithClamd('a large scanned upload with the real clamd', (clamd) => {
  let h: StorageHarness;
  let baseUrl: string;
  beforeAll(async () => {
    h = await startStorage('embedded', { CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port), SCAN_WORKER_INTERVAL_SECONDS: '0' });
    await registerScannedApp(h);
    baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => h.close());

  it('streams 90 MB to clamd and the blob store with bounded memory, answers Pending at once and records Clean later', async () => {
    const size = 90 * MB;
    const instance = await createInstance(h, { appId: 'nav/scanned' });
    const expected = await sha256Of(pseudoRandomStream(size, 77));
    const { result: answer, growth } = await peakRssGrowth(() =>
      post(`${baseUrl}${instanceUrl(instance)}/data?dataType=scanned`, h.auth.owner, (request) => pipeline(pseudoRandomStream(size, 77), request)),
    );
    expect(answer.status).toBe(201);
    const element = JSON.parse(answer.body) as DataElement;
    expect(element).toMatchObject({ size, contentHash: expected.hash, fileScanResult: 'Pending' });
    expect(growth).toBeLessThan(64 * MB);

    let current = element;
    for (let i = 0; i < 300 && current.fileScanResult === 'Pending'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      current = await elementNow(h, instance, element);
    }
    expect(current.fileScanResult).toBe('Clean');
  }, 60_000);
});
