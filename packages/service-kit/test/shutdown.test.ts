import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createServer } from '../src/server';

/**
 * A keep-alive connection that is still sending its response when close() begins must not hold shutdown up until its
 * keep-alive timeout (72 s in Fastify), longer than this test's timeout.
 */
test('close() waits for an in-flight response and then ends its keep-alive connection', async () => {
  const app = createServer({ name: 'shutdown-test', logger: false });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  // Headers and the first bytes go out before close() begins; the rest only after.
  app.get('/slow', async (_request, reply) => {
    async function* body() {
      yield '{"done":';
      await released;
      yield 'true}';
    }
    return reply.type('application/json').send(Readable.from(body()));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });

  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/slow', agent }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closed = app.close();
  release();

  expect(await answered).toEqual({ status: 200, body: '{"done":true}' });
  await closed;
  expect(app.server.listening).toBe(false);
  agent.destroy();
}, 10_000);
