/**
 * Streamed requests over a real socket: a request refused before all of it is read must still get its answer,
 * leave nothing behind, and not hold the connection (or shutdown) open.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Instance } from '@forms/contracts';
import { SYSTEM_PARTY } from '../../storage/test/support/storage-harness';
import { peakRssGrowth, sendStreaming } from '@forms/test-support';
import { startApp, type AppHarness } from './support/app-harness';
import { instanceCount, PDF, storedInstance } from './support/fixtures';

let h: AppHarness;
let port: number;

beforeAll(async () => {
  h = await startApp('skd/tax-return');
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(() => h.close());

const BOUNDARY = 'forms-boundary-7f3a';
function part(name: string, contentType: string, body: Buffer | string, filename?: string): Buffer {
  const disposition = `form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`;
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${contentType}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]);
}

/** Sends the body over a fresh connection and resolves with the status and parsed answer. */
function post(
  body: Buffer,
  path = `/skd/tax-return/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { ...h.storage.auth.system, 'content-type': contentType, 'content-length': body.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const bigReceipt = Buffer.concat([PDF, Buffer.alloc(1024 * 1024, 0x20), Buffer.from('%%EOF\n')]);
const end = Buffer.from(`--${BOUNDARY}--\r\n`);

test('an invalid instance part with a large file part behind it: 400, and nothing left behind', async () => {
  const before = await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY);
  const body = Buffer.concat([part('instance', 'application/json', '{"instanceOwner":{"partyId":"not a number"}}'), part('receipt', 'application/pdf', bigReceipt, 'r.pdf'), end]);
  const response = await post(body);
  expect(response.status).toBe(400);
  expect(await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY)).toBe(before);
});

test('a data part refused after the instance was created: the instance is removed, the answer arrives', async () => {
  const before = await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY);
  const body = Buffer.concat([
    part('instance', 'application/json', '{}'),
    part('model', 'application/json', '{"income":"lots"}'),
    part('receipt', 'application/pdf', bigReceipt, 'r.pdf'),
    end,
  ]);
  const response = await post(body);
  expect(response).toMatchObject({ status: 400, body: { code: 'FORM_DATA_INVALID' } });
  expect(await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY)).toBe(before);
});

test('a template with dates is accepted in multipart as in JSON', async () => {
  const body = Buffer.concat([
    part('instance', 'application/json', JSON.stringify({ dueBefore: '2031-06-30T00:00:00.000Z', visibleAfter: '2026-01-01T00:00:00Z' })),
    part('receipt', 'application/pdf', bigReceipt, 'r.pdf'),
    end,
  ]);
  const response = await post(body);
  expect(response.status).toBe(201);
  const instance = response.body as unknown as Instance;
  expect(instance.dueBefore).toBe('2031-06-30T00:00:00.000Z');
  expect(instance.data.find((d) => d.dataType === 'receipt')?.size).toBe(bigReceipt.length);
});

test('an attachment above its size limit: 413 while streaming, and no data element', async () => {
  const created = await post(Buffer.concat([part('instance', 'application/json', '{}'), end]));
  const instance = created.body as unknown as Instance;
  const threeMegabytes = Buffer.concat([PDF, Buffer.alloc(3 * 1024 * 1024, 0x20), Buffer.from('%%EOF\n')]);
  const response = await post(threeMegabytes, `/skd/tax-return/instances/${instance.id}/data?dataType=receipt`, 'application/pdf');
  expect(response).toMatchObject({ status: 413, body: { code: 'DATA_TOO_LARGE' } });
  const stored = await storedInstance(h, h.storage.auth.system, instance.id);
  expect(stored?.data.map((d) => d.dataType)).toEqual(['model']);
});

test('an attachment whose content is not what it claims: 415 after the first bytes, and no data element', async () => {
  const created = await post(Buffer.concat([part('instance', 'application/json', '{}'), end]));
  const instance = created.body as unknown as Instance;
  const notAPdf = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(1024 * 1024, 0x41)]);
  const response = await post(notAPdf, `/skd/tax-return/instances/${instance.id}/data?dataType=receipt`, 'application/pdf');
  expect(response).toMatchObject({ status: 415, body: { code: 'CONTENT_TYPE_MISMATCH' } });
  const stored = await storedInstance(h, h.storage.auth.system, instance.id);
  expect(stored?.data.map((d) => d.dataType)).toEqual(['model']);
});

test('an attachment for an instance that does not exist: 404, and the connection does not stall', async () => {
  const response = await post(bigReceipt, `/skd/tax-return/instances/${SYSTEM_PARTY}/00000000-0000-4000-8000-000000000000/data?dataType=receipt`, 'application/pdf');
  expect(response.status).toBe(404);
});

test('a form part larger than the form data limit: 413 without reading it into memory whole, and nothing left behind', async () => {
  const before = await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY);
  // MAX_FORM_DATA_KB is 1024 by default; this form part is 256 MB, sent whole (the server drains what it refused).
  const FORM_BYTES = 256 * 1024 * 1024;
  const head = Buffer.concat([
    part('instance', 'application/json', '{}'),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"; filename="model.json"\r\nContent-Type: application/json\r\n\r\n`),
    Buffer.from('{"income":1,"deductions":[{"amount":1,"description":"'),
  ]);
  const tail = Buffer.from(`"}]}\r\n--${BOUNDARY}--\r\n`);
  async function* body() {
    yield head;
    const filler = Buffer.alloc(256 * 1024, 0x78);
    for (let sent = 0; sent < FORM_BYTES; sent += filler.length) yield filler;
    yield tail;
  }
  const { result: answer, growth } = await peakRssGrowth(() =>
    sendStreaming({
      url: `http://127.0.0.1:${port}/skd/tax-return/instances?instanceOwnerPartyId=${SYSTEM_PARTY}`,
      headers: { ...h.storage.auth.system, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      contentLength: head.length + FORM_BYTES + tail.length,
      body: body(),
    }),
  );
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.body)).toMatchObject({ code: 'BODY_TOO_LARGE' });
  expect(answer.sent).toBe(head.length + FORM_BYTES + tail.length);
  // Holding the part (even as a string) would have grown the process by 256 MB or more; and the answer came early.
  expect(growth).toBeLessThan(64 * 1024 * 1024);
  expect(answer.sentBeforeAnswer).toBeLessThan(FORM_BYTES);
  expect(await instanceCount(h, h.storage.auth.skd, SYSTEM_PARTY)).toBe(before);
});
