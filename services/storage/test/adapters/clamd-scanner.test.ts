import net from 'node:net';
import { Readable } from 'node:stream';
import { describeWithClamd, PrivateClamd } from '@forms/test-support';
import { ClamdScanner } from '../../src/adapters/scanner/clamd-scanner';
import { ScanFailedError } from '../../src/domain/ports/malware-scanner';
import { CLEAN_PDF, EICAR, EICAR_SIGNATURE, pdfWithStream, zipOf } from '../support/malware-samples';
import { pseudoRandomStream } from '../support/streams';

const MB = 1024 * 1024;
const chunks = (data: Buffer, size = 7) => Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));

async function failureOf(promise: Promise<unknown>): Promise<ScanFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScanFailedError);
  return error as ScanFailedError;
}

/** A TCP server that plays a broken clamd. */
async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

describeWithClamd('ClamdScanner against a real clamd', (clamd) => {
  const scanner = new ClamdScanner({ ...clamd, timeoutMs: 10_000, maxStreamBytes: 100 * MB });

  it('answers PING', async () => {
    await expect(scanner.ping()).resolves.toBeUndefined();
  });

  it.each([
    ['plain', EICAR],
    ['inside a zip', zipOf('invoice.txt', EICAR)],
    ['inside a Flate-compressed PDF stream', pdfWithStream(Buffer.concat([Buffer.from('BT ('), EICAR, Buffer.from(') Tj ET')]))],
  ])('finds EICAR %s, with its signature name', async (_what, content) => {
    await expect(scanner.scan(chunks(content))).resolves.toEqual({ outcome: 'infected', signature: EICAR_SIGNATURE });
  });

  it.each([
    ['text', Buffer.from('Dear tax office, please find my receipts attached.')],
    ['a PDF', CLEAN_PDF],
    ['a zip', zipOf('receipt.txt', Buffer.from('nothing to see'))],
    ['empty content', Buffer.alloc(0)],
  ])('finds %s clean', async (_what, content) => {
    await expect(scanner.scan(chunks(content, 1024))).resolves.toEqual({ outcome: 'clean' });
  });

  it('scans 20 MB streamed in 64 KiB chunks', async () => {
    await expect(scanner.scan(pseudoRandomStream(20 * MB, 16))).resolves.toEqual({ outcome: 'clean' });
  });

  it('passes on an error of the content stream itself', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(scanner.scan(failing)).rejects.toThrow('client went away');
  });

  it('is unavailable, never clean, when nothing listens', async () => {
    const server = await fakeServer(() => {});
    await server.close();
    const down = new ClamdScanner({ host: '127.0.0.1', port: (server as unknown as { port: number }).port, timeoutMs: 2000, maxStreamBytes: MB });
    expect((await failureOf(down.scan(chunks(EICAR)))).reason).toBe('unavailable');
    await expect(down.ping()).rejects.toBeInstanceOf(ScanFailedError);
  });

  it('fails when clamd answers ERROR or closes the connection without an answer', async () => {
    const erroring = await fakeServer((socket) => socket.once('data', () => socket.end('stream: Can\'t allocate memory ERROR\0')));
    const closing = await fakeServer((socket) => socket.once('data', () => socket.destroy()));
    try {
      const scan = (port: number) => new ClamdScanner({ host: '127.0.0.1', port, timeoutMs: 2000, maxStreamBytes: MB }).scan(chunks(Buffer.from('hello')));
      expect((await failureOf(scan(erroring.port))).reason).toBe('error');
      expect((await failureOf(scan(closing.port))).reason).toBe('unavailable');
    } finally {
      await Promise.all([erroring.close(), closing.close()]);
    }
  });

  it('times out when clamd goes silent', async () => {
    const silent = await fakeServer(() => {});
    try {
      const scanner = new ClamdScanner({ host: '127.0.0.1', port: silent.port, timeoutMs: 300, maxStreamBytes: MB });
      expect((await failureOf(scanner.scan(chunks(Buffer.from('hello'))))).reason).toBe('timeout');
    } finally {
      await silent.close();
    }
  });

  describe('above the stream limit (a clamd with StreamMaxLength 2M)', () => {
    let small: PrivateClamd;
    beforeAll(async () => {
      const probe = await fakeServer(() => {});
      await probe.close();
      small = await PrivateClamd.start(probe.port, { STREAM_MAX_MB: '2' });
    }, 60_000);
    afterAll(() => small?.stop());

    it('reports too_large, not clean, and stops sending', async () => {
      const scanner = new ClamdScanner({ host: '127.0.0.1', port: small.port, timeoutMs: 10_000, maxStreamBytes: 2 * MB });
      expect((await failureOf(scanner.scan(pseudoRandomStream(8 * MB, 17)))).reason).toBe('too_large');
      // A scanner configured with a larger limit than clamd's still never reads clamd's refusal as clean.
      const misconfigured = new ClamdScanner({ host: '127.0.0.1', port: small.port, timeoutMs: 10_000, maxStreamBytes: 100 * MB });
      expect(['too_large', 'unavailable']).toContain((await failureOf(misconfigured.scan(pseudoRandomStream(8 * MB, 17)))).reason);
      await expect(scanner.scan(pseudoRandomStream(MB, 18))).resolves.toEqual({ outcome: 'clean' });
    });
  });
});
