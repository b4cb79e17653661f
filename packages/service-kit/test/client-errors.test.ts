import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../src/server';

/** Sends raw bytes and reads until the server closes the connection. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('what the HTTP parser refuses is answered as problem details too', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = createServer({ name: 'client-errors-test', logger: false });
    app.get('/', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it.each([
    ['bytes that are not HTTP', 'HELLO THERE\r\n\r\n', 400, 'Bad Request', 'MALFORMED_REQUEST'],
    ['headers past the size limit', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE'],
  ])('%s: problem details with a stable code, and the connection closed', async (_name, bytes, status, title, code) => {
    const answer = await exchange(port, bytes);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${title}`);
    expect(head).toMatch(/\r\ncontent-type: application\/problem\+json; charset=utf-8/i);
    expect(JSON.parse(body)).toEqual({ type: 'about:blank', title, status, code, detail: expect.any(String) });
    // The server still answers well-formed requests.
    expect((await app.inject({ url: '/' })).json()).toEqual({ ok: true });
  });
});
