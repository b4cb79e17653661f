import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface UploadAnswer {
  status: number;
  body: string;
}

/** Streams `body` to `url` over a real socket; resolves with the answer (whatever its status). */
export function uploadOverHttp(url: string, headers: Record<string, string>, body: Readable, method = 'POST'): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        // The answer may come before the whole body was sent (a refusal): stop sending.
        if (!body.readableEnded) req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    req.on('error', reject);
    pipeline(body, req).catch(() => undefined);
  });
}

/**
 * Sends the headers of an upload declaring `declaredLength` bytes and the first `sent` bytes, then nothing more, as a
 * client on a dead line would. Resolves with how long after the last byte the server closed the connection, or
 * undefined when it had not within `waitMs`.
 */
export async function stallUpload(url: string, headers: Record<string, string>, declaredLength: number, sent: Buffer, waitMs = 15_000): Promise<number | undefined> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  const lines = Object.entries({ ...headers, host: hostname, 'content-length': String(declaredLength) }).map(([name, value]) => `${name}: ${value}`);
  socket.write(`POST ${pathname}${search} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.write(sent, () => resolve()));
  const lastByte = Date.now();
  const closedAt = await Promise.race([closed, sleep(waitMs).then(() => undefined)]);
  socket.destroy();
  return closedAt === undefined ? undefined : closedAt - lastByte;
}

export interface DownloadResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** sha256 and length of what arrived. */
  hash: string;
  size: number;
  /** True when the response ended cleanly; false when the connection was cut before its end. */
  complete: boolean;
  /** The body as text, for small answers (problem documents). */
  text: string;
}

/** Downloads over a real socket, hashing as it goes; a cut-off response resolves with complete: false. */
export function downloadOverHttp(url: string, headers: Record<string, string>): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      let text = '';
      let settled = false;
      const settle = (complete: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, hash: hash.digest('hex'), size, complete, text });
      };
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        if (text.length < 4096) text += chunk.toString('utf8');
      });
      res.on('end', () => settle(true));
      res.on('aborted', () => settle(false));
      res.on('error', () => settle(false));
      res.on('close', () => settle(res.complete));
    })
      .on('error', reject)
      .end();
  });
}
