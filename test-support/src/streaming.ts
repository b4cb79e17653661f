import { connect } from 'node:net';

/** Samples this process's RSS while `work` runs; returns the peak growth over the level before it started. */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
}

export interface StreamedAnswer {
  status: number;
  body: string;
  /** Body bytes written to the connection when the answer's first bytes arrived. */
  sentBeforeAnswer: number;
  /** Body bytes written in all. */
  sent: number;
}

export interface StreamedRequest {
  url: string;
  method?: string;
  headers: Record<string, string | number>;
  /** Sent as Content-Length; the body must have exactly this many bytes. */
  contentLength: number;
  body: AsyncIterable<Buffer>;
  /**
   * After this many bytes the client sends nothing more until the answer has arrived, then stops: an answer
   * can only come while the client is still sending. Rejects when none comes within `holdTimeoutMs`.
   * Without it the client sends its whole body whatever the answer, as a simple client does.
   */
  holdAfter?: number;
  holdTimeoutMs?: number;
}

/**
 * One HTTP/1.1 request over a raw TCP connection, body written chunk by chunk with backpressure, reporting how
 * much of the body had gone out when the answer came. (Node's own client stops writing once it has an answer.)
 */
export async function sendStreaming(options: StreamedRequest): Promise<StreamedAnswer> {
  const url = new URL(options.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let sent = 0;
  let sentBeforeAnswer: number | undefined;
  let received = Buffer.alloc(0);
  let answered: () => void = () => undefined;
  const answerStarted = new Promise<void>((resolve) => (answered = resolve));
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      sentBeforeAnswer ??= sent;
      answered();
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = received.subarray(0, headEnd).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length - headEnd - 4 < length) return;
      resolve({ status: Number(head.split(' ')[1]), body: received.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8') });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed before a whole answer (${received.length} bytes)`)));
  });
  answer.catch(() => undefined);
  const headers = { host: url.host, ...options.headers, 'content-length': options.contentLength };
  const head = `${options.method ?? 'POST'} ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const write = (chunk: Buffer | string) => new Promise<void>((resolve, reject) => socket.write(chunk, (error) => (error ? reject(error) : resolve())));
  try {
    await write(head);
    for await (const chunk of options.body) {
      if (options.holdAfter !== undefined && sent + chunk.length > options.holdAfter) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer while the client was still sending (${sent} bytes sent)`)), options.holdTimeoutMs ?? 10_000);
        });
        await Promise.race([answerStarted, timeout]).finally(() => clearTimeout(timer));
        break;
      }
      await write(chunk);
      sent += chunk.length;
    }
    const { status, body } = await answer;
    return { status, body, sentBeforeAnswer: sentBeforeAnswer ?? sent, sent };
  } finally {
    socket.destroy();
  }
}
