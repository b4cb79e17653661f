import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createServer } from '../src/server';

/** Resolves once the server no longer listens (checked each turn of the event loop; bounded by the test timeout). */
async function stoppedListening(server: { listening: boolean }): Promise<void> {
  while (server.listening) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A keep-alive connection that is still sending its response when close() begins must not hold shutdown up until its
 * keep-alive timeout (72 s in Fastify), longer than this test's timeout.
 */
test('close() waits for an in-flight response and then ends its keep-alive connection', async () => {
  const app = createServer({ name: 'shutdown-test', logger: false });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let bodyStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (bodyStarted = resolve));
  // Headers and the first bytes go out before close() begins; the rest only after.
  app.get('/slow', async (_request, reply) => {
    async function* body() {
      yield '{"done":';
      bodyStarted();
      await released;
      yield 'true}';
    }
    return reply.type('application/json').send(Readable.from(body()));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });
  let firstBytesArrived: () => void = () => undefined;
  const firstBytes = new Promise<void>((resolve) => (firstBytesArrived = resolve));

  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/slow', agent }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
        firstBytesArrived();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('aborted', () => reject(new Error(`the response was cut off after ${JSON.stringify(body)}`)));
    })
      .on('error', reject)
      .end();
  });
  // The handler has begun the body and the client holds its first bytes: the response is truly in flight.
  await started;
  await firstBytes;
  const closed = app.close();
  // The rest of the body is sent only once the server has stopped taking connections: shutdown is under way.
  await stoppedListening(app.server);
  release();

  expect(await answered).toEqual({ status: 200, body: '{"done":true}' });
  await closed;
  expect(app.server.listening).toBe(false);
  agent.destroy();
}, 10_000);

test('an answer given before the body was read: the client finishes sending, reads it, and shutdown is prompt', async () => {
  const app = createServer({ name: 'unread-body-test', logger: false });
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  // Reads the first chunk only, then refuses, as a route that judges an upload by its first bytes does.
  app.post('/upload', async (request, reply) => {
    const iterator = (request.body as Readable).iterator({ destroyOnReturn: false });
    await iterator.next();
    await iterator.return?.();
    return reply.code(415).send({ refused: true });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });
  const body = Buffer.alloc(8 * 1024 * 1024, 1);

  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    })
      .on('error', reject)
      .end(body);
  });
  expect(answer).toEqual({ status: 415, body: '{"refused":true}' });
  await app.close();
  agent.destroy();
}, 10_000);

test('a client that stops sending the rest of a body already answered does not hold shutdown up', async () => {
  const app = createServer({ name: 'stalled-body-test', logger: false });
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  app.post('/upload', async (_request, reply) => reply.code(415).send({ refused: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });

  // A declared 8 MiB of which the client sends 64 KiB, reads the answer, and then sends nothing more: without the
  // sweep, the server would wait for the rest until Node's request timeout (5 minutes).
  let dropped: () => void = () => undefined;
  const connectionDropped = new Promise<void>((resolve) => (dropped = resolve));
  const answer = await new Promise<number>((resolve, reject) => {
    const upload = request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': 8 * 1024 * 1024 } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', reject);
    upload.on('close', () => dropped());
    upload.write(Buffer.alloc(64 * 1024, 1));
  });
  expect(answer).toBe(415);
  await app.close();
  await connectionDropped;
  expect(app.server.listening).toBe(false);
  agent.destroy();
}, 10_000);
