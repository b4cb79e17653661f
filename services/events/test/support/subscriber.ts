import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudEvent } from '../../src/domain/cloud-event';

export interface Received {
  event: CloudEvent;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}

/**
 * A subscriber's endpoint on 127.0.0.1: records every request and answers with the status `respond` gives
 * (200 by default), or not at all (`'hang'`).
 */
export class Subscriber {
  readonly received: Received[] = [];
  respond: (event: CloudEvent, attempt: number) => number | 'hang' = () => 200;
  private readonly waiters: Array<() => void> = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hook'): Promise<Subscriber> {
    const holder: { subscriber?: Subscriber } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const subscriber = holder.subscriber as Subscriber;
        const body = Buffer.concat(chunks).toString('utf8');
        const event = JSON.parse(body) as CloudEvent;
        const attempt = subscriber.received.filter((r) => r.event.id === event.id).length + 1;
        subscriber.received.push({ event, body, headers: request.headers, at: Date.now() });
        for (const wake of subscriber.waiters.splice(0)) wake();
        const status = subscriber.respond(event, attempt);
        if (status === 'hang') return;
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.subscriber = new Subscriber(server, `http://127.0.0.1:${port}${path}`);
    return holder.subscriber;
  }

  /** Events other than the subscription's validation event. */
  get events(): CloudEvent[] {
    return this.received.map((r) => r.event).filter((e) => e.type !== 'platform.events.validatesubscription');
  }

  /** Waits until `predicate` holds for what was received, at most `timeoutMs`. */
  async waitFor(predicate: (received: Received[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`subscriber: condition not met within ${timeoutMs} ms; received ${this.received.map((r) => r.event.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { eventually } from '@forms/test-support';
