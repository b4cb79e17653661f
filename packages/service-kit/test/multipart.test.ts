import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../src/server';
import { multipartParts } from '../src/multipart';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

/** A route that reads every part whole, as the services' creation routes do, and answers with what it read. */
async function partsServer(): Promise<FastifyInstance> {
  const app = createServer({ name: 'multipart-test', logger: false });
  await app.register(multipart, { throwFileSizeLimit: true });
  app.post('/parts', async (request) => {
    const parts = multipartParts(request, { limits: { fileSize: 1024 * 1024, parts: 10 } });
    const read: { name: string; sha256: string }[] = [];
    for (let next = await parts.next(); !next.done; next = await parts.next()) {
      const part = next.value;
      const content = part.type === 'file' ? await part.toBuffer() : Buffer.from(String(part.value));
      read.push({ name: part.fieldname, sha256: sha256(content) });
    }
    return read;
  });
  return app;
}

const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(40_000, 7), Buffer.from('\n%%EOF\n')]);
/** A body whose file content holds the boundary's text (without the CRLF before it, as the format allows). */
const body = (boundary: string) =>
  Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nsee --${boundary}-- inside\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="proof"; filename="proof.pdf"\r\nContent-Type: application/pdf\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--`),
  ]);

/** The payload in chunks of 1 to `largest` bytes, so the close delimiter lands across chunk edges. */
function inChunks(payload: Buffer, largest: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, size = 1; at < payload.length; at += size, size = (size % largest) + 1) chunks.push(payload.subarray(at, at + size));
  return Readable.from(chunks);
}

describe('multipartParts', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await partsServer();
  });
  afterAll(() => app.close());

  const post = (contentType: string, payload: Buffer | Readable) => app.inject({ method: 'POST', url: '/parts', headers: { 'content-type': contentType }, payload });
  const expected = [
    { name: 'note', sha256: sha256(Buffer.from('see --b0undary-- inside')) },
    { name: 'proof', sha256: sha256(file) },
  ];

  it.each([1, 3, 7, 19, 64 * 1024])('reads a whole body sent in chunks of up to %i bytes', async (largest) => {
    const response = await post('multipart/form-data; boundary=b0undary', inChunks(body('b0undary'), largest));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(expected);
  });

  it('reads a quoted boundary, a CRLF and an epilogue after the close delimiter, and a body with no parts', async () => {
    const quoted = await post('multipart/form-data; boundary="b0undary"', Buffer.concat([body('b0undary'), Buffer.from('\r\nan epilogue')]));
    expect(quoted.json()).toEqual(expected);
    const empty = await post('multipart/form-data; boundary=b0undary', Buffer.from('--b0undary--\r\n'));
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual([]);
  });

  it.each([
    ['no boundary', 'multipart/form-data', body('b0undary')],
    ['a boundary of 71 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`, body('b'.repeat(71))],
    ['an end in the content of a part', 'multipart/form-data; boundary=b0undary', body('b0undary').subarray(0, 20_000)],
    ['an end in the headers of a part', 'multipart/form-data; boundary=b0undary', body('b0undary').subarray(0, 120)],
    ['an end right after a part, before the close delimiter', 'multipart/form-data; boundary=b0undary', body('b0undary').subarray(0, -2)],
  ])('refuses a body with %s: 400 MALFORMED_MULTIPART', async (_name, contentType, payload) => {
    for (const largest of [5, 64 * 1024]) {
      const response = await post(contentType, inChunks(payload, largest));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'MALFORMED_MULTIPART' });
    }
  });
});
