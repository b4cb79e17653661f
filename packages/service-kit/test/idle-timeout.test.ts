import { connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type TypedFastify } from '../src/server';

/**
 * A client that stops sending in the middle of a body loses its connection after IDLE_TIMEOUT_SECONDS of silence,
 * and the route reading the body learns of it; a slow client that keeps sending is never cut off, however long
 * its request takes.
 */
describe('connections that fall silent', () => {
  const IDLE_MS = 400;
  let app: TypedFastify;
  let port: number;
  let bodies: Promise<{ bytes: number; outcome: string }>[];

  beforeAll(async () => {
    app = createServer({ name: 'idle-test', logger: false, idleTimeoutMs: IDLE_MS });
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    bodies = [];
    app.post('/upload', async (request) => {
      const read = (async () => {
        let bytes = 0;
        try {
          for await (const chunk of request.body as AsyncIterable<Buffer>) bytes += chunk.length;
          return { bytes, outcome: 'complete' };
        } catch {
          return { bytes, outcome: 'aborted' };
        }
      })();
      bodies.push(read);
      const { bytes, outcome } = await read;
      return { bytes, outcome };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    });
  const closedAfter = (socket: Socket, since: number): Promise<number> => new Promise((resolve) => socket.on('close', () => resolve(Date.now() - since)));
  const headers = (length: number) => `POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${length}\r\n\r\n`;

  it('closes a connection whose body stopped coming, and the route sees the body end unfinished', async () => {
    bodies = [];
    const socket = await open();
    const started = Date.now();
    const closed = closedAfter(socket, started);
    socket.write(headers(1000) + 'x'.repeat(10));
    const elapsed = await Promise.race([closed, sleep(IDLE_MS * 10).then(() => 'still open')]);
    socket.destroy();
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(await bodies[0]).toEqual({ bytes: 10, outcome: 'aborted' });
  });

  it('lets a body that keeps coming take many times the idle timeout', async () => {
    const socket = await open();
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const chunks = 12;
    socket.write(headers(chunks));
    for (let i = 0; i < chunks; i++) {
      await sleep(IDLE_MS / 4);
      socket.write('x');
    }
    while (!answer.includes('}')) await sleep(10);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(answer).toContain('{"bytes":12,"outcome":"complete"}');
    socket.destroy();
  });
});
