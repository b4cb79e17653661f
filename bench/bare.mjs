// The baseline: bare Fastify doing the same kind of request as the platform route it is compared with, in its own
// process. It reads the same headers (and ignores the Authorization header: no token check), parses the same JSON
// bodies and answers the same instance document (BARE_INSTANCE) the platform answers; /blob streams a body to a
// file and back, as storage does with a data element, without the checks, hashing and metadata.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Fastify from 'fastify';

const instance = process.env.BARE_INSTANCE ?? '{}';
const folder = mkdtempSync(join(tmpdir(), 'bench-bare-'));
const blob = join(folder, 'blob');

const app = Fastify({ logger: false });
app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
app.get('/blob', (_request, reply) => reply.type('application/octet-stream').header('content-length', statSync(blob).size).send(createReadStream(blob)));
app.post('/blob', async (request, reply) => {
  await pipeline(request.body, createWriteStream(blob));
  return reply.code(201).type('application/json').send('{"stored":true}');
});
app.get('/*', (_request, reply) => reply.type('application/json; charset=utf-8').send(instance));
app.post('/*', (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ error: 'JSON object expected' });
  return reply.code(201).type('application/json; charset=utf-8').send(instance);
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 5299) });
console.log('listening');
process.on('SIGTERM', () =>
  app.close().then(() => {
    rmSync(folder, { recursive: true, force: true });
    process.exit(0);
  }),
);
