import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** What the proxy does with the requests it sees. */
export type ProxyMode =
  /** Forwards every byte both ways. */
  | { kind: 'pass' }
  /** Accepts connections and sends nothing back, ever: a hanging service. */
  | { kind: 'silent' }
  /** Forwards, but passes the service's answers on slowly: each chunk after a pause (a slow network). */
  | { kind: 'slow'; chunkDelayMs: number }
  /** Forwards, but resets the connection (TCP RST) when a request line matches: a service dying mid-request. */
  | { kind: 'reset'; when: (method: string, path: string) => boolean };

const REQUEST_LINE = /(?:^|\r\n)([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/g;

/**
 * A TCP proxy on 127.0.0.1 in front of a real service, for faults as clients meet them: a port that refuses
 * connections (`down`), a peer that never answers, a connection reset in the middle of one kind of request.
 * It knows HTTP only well enough to read request lines, so a rule can let some requests through and kill others
 * on the same keep-alive connection.
 */
export class FaultProxy {
  private mode: ProxyMode = { kind: 'pass' };
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;
  /** Request lines (`METHOD path`) seen, in order. */
  readonly seen: string[] = [];
  private constructor(
    private readonly target: { host: string; port: number },
    private port: number,
  ) {}

  static async start(targetUrl: string): Promise<FaultProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port) }, 0);
    await proxy.up();
    return proxy;
  }

  /** The target URL with the proxy's host and port. */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString().replace(/\/$/, '');
  }

  /**
   * Switches mode. `reset` acts on connections already open; `silent` only on new ones (call `down` and `up`
   * first so that no kept-alive connection still forwards).
   */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Listens (again, on the same port after `down`). */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every open connection: the port now refuses connections. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.connections) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  async stop(): Promise<void> {
    await this.down();
  }

  private track(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode.kind === 'silent') return;
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const mode = this.mode;
      if (mode.kind === 'slow') {
        upstream.pause();
        setTimeout(() => upstream.resume(), mode.chunkDelayMs);
      }
    });
    client.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      for (const [, method = '', path = ''] of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        this.seen.push(`${method} ${path}`);
        if (mode.kind === 'reset' && mode.when(method, path)) {
          upstream.destroy();
          client.resetAndDestroy();
          return;
        }
      }
      upstream.write(chunk);
    });
  }
}
