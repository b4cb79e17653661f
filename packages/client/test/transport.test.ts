/**
 * The undici transport under the clients: keep-alive connections, one deadline per call covering connect,
 * headers and body, a streamed upload that may take longer than the deadline as long as it keeps moving.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { DomainError } from '@forms/contracts';
import { Deadline, StorageClient } from '../src';

const INSTANCE_ID = '50001/00000000-0000-4000-8000-000000000000';

interface TestServer {
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer(handler);
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const instanceJson = JSON.stringify({ id: INSTANCE_ID, version: 3 });

test('calls reuse kept-alive connections', async () => {
  const server = await serve((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(instanceJson.length), etag: '"3"' }).end(instanceJson),
  );
  try {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 2_000 });
    for (let i = 0; i < 20; i++) expect((await client.getInstance('t', INSTANCE_ID)).version).toBe(3);
    // undici's pool may open a second connection while the first is finishing its previous answer; not 20.
    expect(server.connections()).toBeLessThanOrEqual(2);
  } finally {
    await server.close();
  }
});

test('the deadline covers the body: a JSON answer that stalls half-way times out', async () => {
  const server = await serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(instanceJson.length) });
    response.write(instanceJson.slice(0, 10)); // and never the rest
  });
  try {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 300 });
    const started = Date.now();
    expect(await failure(client.getInstance('t', INSTANCE_ID))).toMatchObject({ kind: 'timeout', code: 'STORAGE_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_500);
  } finally {
    await server.close();
  }
});

test('the deadline is one for the whole call, not one per phase', async () => {
  // Headers after 200 ms, the body 200 ms later: each phase is within 300 ms, the call is not.
  const server = await serve((_request, response) => {
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      setTimeout(() => response.end(instanceJson), 200);
    }, 200);
  });
  try {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 300 });
    expect(await failure(client.getInstance('t', INSTANCE_ID))).toMatchObject({ code: 'STORAGE_TIMEOUT' });
    expect((await new StorageClient({ baseUrl: server.url, timeoutMs: 1_000 }).getInstance('t', INSTANCE_ID)).version).toBe(3);
  } finally {
    await server.close();
  }
});

test('a client within a deadline shares it between its calls; the client itself is not bounded by it', async () => {
  // Answers after 600 ms: one call fits a 1 s deadline, the second does not fit what is left of it.
  const server = await serve((_request, response) => {
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json', etag: '"3"' }).end(instanceJson), 600);
  });
  try {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 5_000 });
    const bounded = client.within(Deadline.after(1_000));
    expect((await bounded.getInstance('t', INSTANCE_ID)).version).toBe(3);
    const started = Date.now();
    expect(await failure(bounded.getInstance('t', INSTANCE_ID))).toMatchObject({ code: 'STORAGE_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_000);
    // A spent deadline refuses at once, without a request; the client it came from still has its own timeout.
    expect(await failure(bounded.getInstance('t', INSTANCE_ID))).toMatchObject({ code: 'STORAGE_TIMEOUT' });
    expect((await client.getInstance('t', INSTANCE_ID)).version).toBe(3);
  } finally {
    await server.close();
  }
});

describe('streamed uploads', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Hashes what it receives and answers with the hash, as storage answers with the data element.
    server = await serve((request, response) => {
      const hash = createHash('sha256');
      request.on('data', (chunk: Buffer) => hash.update(chunk));
      request.on('end', () => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ contentHash: hash.digest('hex') })));
    });
  });
  afterAll(() => server.close());

  /** `count` chunks of 64 KiB, one every `intervalMs`. */
  function trickle(count: number, intervalMs: number): { stream: Readable; hash: string } {
    const chunks = Array.from({ length: count }, (_, i) => Buffer.alloc(64 * 1024, i));
    const hash = createHash('sha256');
    for (const chunk of chunks) hash.update(chunk);
    async function* slowly() {
      for (const chunk of chunks) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
        yield chunk;
      }
    }
    return { stream: Readable.from(slowly()), hash: hash.digest('hex') };
  }

  test('an upload that keeps moving may take longer than the deadline', async () => {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 300 });
    const { stream, hash } = trickle(10, 100); // ~1 s in all
    const element = await client.uploadData('t', INSTANCE_ID, 'bigfile', stream, { contentType: 'application/octet-stream' });
    expect(element).toEqual({ contentHash: hash });
  });

  test('upload progress moves on the deadline a client is within', async () => {
    const bounded = new StorageClient({ baseUrl: server.url, timeoutMs: 300 }).within(Deadline.after(300));
    const { stream, hash } = trickle(10, 100); // ~1 s in all, three times the deadline
    expect(await bounded.uploadData('t', INSTANCE_ID, 'bigfile', stream, { contentType: 'application/octet-stream' })).toEqual({ contentHash: hash });
    // The deadline now ends 300 ms after the last chunk, not 300 ms after the start: the next call has time left.
    expect((await bounded.getInstance('t', INSTANCE_ID)).value).toHaveProperty('contentHash');
  });

  test('an upload that stalls for longer than the deadline times out', async () => {
    const client = new StorageClient({ baseUrl: server.url, timeoutMs: 300 });
    const { stream } = trickle(3, 600);
    expect(await failure(client.uploadData('t', INSTANCE_ID, 'bigfile', stream, { contentType: 'application/octet-stream' }))).toMatchObject({
      code: 'STORAGE_TIMEOUT',
    });
  });
});
