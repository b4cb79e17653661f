import net from 'node:net';
import type { Readable } from 'node:stream';
import { ScanFailedError, type MalwareScanner, type ScanVerdict } from '../../domain/ports/malware-scanner';

export interface ClamdOptions {
  host: string;
  port: number;
  /** Connect timeout and longest silence while scanning, in ms. */
  timeoutMs: number;
  /** Must match clamd's StreamMaxLength. */
  maxStreamBytes: number;
}

/** clamd's answer when a stream exceeds StreamMaxLength. */
const SIZE_LIMIT_REPLY = 'INSTREAM size limit exceeded';

/**
 * ClamAV's daemon over TCP, with the null-terminated INSTREAM command: each chunk goes out prefixed by its
 * 4-byte big-endian length, a zero-length chunk ends the stream, and clamd answers `stream: OK`,
 * `stream: <signature> FOUND` or `... ERROR`. Anything but OK or FOUND (an ERROR, a closed connection, silence
 * past the timeout) is a ScanFailedError, never a clean verdict.
 */
export class ClamdScanner implements MalwareScanner {
  readonly name: string;
  readonly maxStreamBytes: number;

  constructor(private readonly options: ClamdOptions) {
    this.name = `clamd ${options.host}:${options.port}`;
    this.maxStreamBytes = options.maxStreamBytes;
  }

  async ping(): Promise<void> {
    const reply = await this.command((socket) => {
      socket.end('zPING\0');
    });
    if (reply !== 'PONG') throw new ScanFailedError('error', `${this.name} answered PING with '${reply}'`);
  }

  async scan(content: Readable): Promise<ScanVerdict> {
    const reply = await this.command(async (socket, answered) => {
      socket.write('zINSTREAM\0');
      let sent = 0;
      for await (const chunk of content) {
        // clamd answers early (and closes) when the stream exceeds its limit: stop sending then.
        if (answered()) return;
        const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        sent += data.length;
        // Past the limit clamd would answer ERROR and reset the connection, which can swallow its answer: stop first.
        if (sent > this.maxStreamBytes) {
          throw new ScanFailedError('too_large', `the content exceeds the ${this.maxStreamBytes} bytes ${this.name} scans in one stream`);
        }
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(data.length);
        // Corked: the length and its chunk leave in one writev, not two writes.
        socket.cork();
        socket.write(header);
        const more = socket.write(data);
        socket.uncork();
        if (!more) await drained(socket);
      }
      if (!answered()) socket.end(Buffer.alloc(4));
    });
    return this.verdict(reply);
  }

  private verdict(reply: string): ScanVerdict {
    if (reply.startsWith(SIZE_LIMIT_REPLY)) throw new ScanFailedError('too_large', `${this.name}: ${reply}`);
    const found = /^stream: (.+) FOUND$/.exec(reply);
    if (found) return { outcome: 'infected', signature: found[1] as string };
    if (reply === 'stream: OK') return { outcome: 'clean' };
    throw new ScanFailedError('error', `${this.name} answered '${reply}'`);
  }

  /**
   * Connects, runs `send` and resolves with clamd's null-terminated answer. A failure of `send` caused by the
   * content stream rejects with that error; everything on the socket's side becomes a ScanFailedError.
   */
  private command(send: (socket: net.Socket, answered: () => boolean) => void | Promise<void>): Promise<string> {
    const { host, port, timeoutMs } = this.options;
    return new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host, port });
      let reply = '';
      let settled = false;
      const finish = (error: Error | undefined, answer?: string) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (error) reject(error);
        else resolve(answer as string);
      };
      const answer = () => {
        const end = reply.indexOf('\0');
        return end >= 0 ? reply.slice(0, end) : undefined;
      };
      socket.setTimeout(timeoutMs, () => finish(new ScanFailedError('timeout', `${this.name} did not answer within ${timeoutMs} ms`)));
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('utf8');
        const complete = answer();
        if (complete !== undefined) finish(undefined, complete.trim());
      });
      socket.on('error', (cause: Error) => {
        // A reset while sending can follow an early answer (the size limit); that answer still counts.
        const complete = answer();
        if (complete !== undefined) finish(undefined, complete.trim());
        else finish(new ScanFailedError('unavailable', `${this.name}: ${cause.message}`, { cause }));
      });
      socket.on('close', () => {
        const complete = answer() ?? (reply.trim() || undefined);
        if (complete !== undefined) finish(undefined, complete.trim());
        else finish(new ScanFailedError('unavailable', `${this.name} closed the connection without an answer`));
      });
      socket.once('connect', () => {
        Promise.resolve(send(socket, () => settled || answer() !== undefined)).catch((error: unknown) =>
          finish(error instanceof Error ? error : new Error(String(error))),
        );
      });
    });
  }
}

function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
