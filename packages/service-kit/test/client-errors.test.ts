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
    app.get('/items/:id', async (request) => request.params);
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

describe('what the router refuses before a route runs is answered as problem details too', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = createServer({ name: 'framework-errors-test', logger: false });
    app.get('/items/:id', async (request) => request.params);
    await app.ready();
  });
  afterAll(() => app.close());

  it.each([
    ['a path that is not valid percent-encoding', '/items/%E0%A4%A', 400, 'MALFORMED_URL'],
    ['a path parameter past the length limit', `/items/${'x'.repeat(5000)}`, 414, 'URI_TOO_LONG'],
  ])('%s', async (_name, url, status, code) => {
    const response = await app.inject({ url, headers: { 'x-request-id': 'framework-error-1' } });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.headers['x-request-id']).toBe('framework-error-1');
    expect(response.json()).toMatchObject({ status, code, requestId: 'framework-error-1' });
    expect(response.body).not.toContain('x'.repeat(200));
  });
});
