import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { DomainError } from '@forms/contracts';
import { isRefusedAddress } from '../domain/address-policy';
import type { DeliveryOutcome, EndpointClient } from '../domain/ports/endpoint';

export interface HttpEndpointOptions {
  timeoutMs: number;
  /** Loopback, private and link-local addresses allowed (local development only). */
  allowPrivate: boolean;
}

const REFUSED = 'ENDPOINT_ADDRESS_REFUSED';

/**
 * Subscriber endpoints over HTTP with undici: redirects are never followed (a 3xx is a failed delivery), and
 * unless allowed, a connection to a private, loopback or link-local address is refused at connect time, after
 * DNS resolution, so a name that resolves elsewhere later cannot slip through.
 */
export class HttpEndpointClient implements EndpointClient {
  private readonly agent: Agent;

  constructor(private readonly options: HttpEndpointOptions) {
    const guardedLookup = (hostname: string, lookupOptions: object, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
      dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
        if (error) return callback(error, []);
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => isRefusedAddress(a.address));
        if (bad && !options.allowPrivate) {
          const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${bad.address}, a private, loopback or link-local address`);
          refused.code = REFUSED;
          return callback(refused, []);
        }
        const all = (lookupOptions as { all?: boolean }).all === true;
        if (all) return callback(null, list);
        const first = list[0] as LookupAddress;
        return callback(null, first.address, first.family);
      });
    };
    this.agent = new Agent({ connect: { lookup: guardedLookup as never, timeout: options.timeoutMs }, keepAliveTimeout: 10_000 });
  }

  async check(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DomainError('invalid', 'INVALID_ENDPOINT', 'endPoint is not a URL.');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new DomainError('invalid', 'INVALID_ENDPOINT', 'endPoint must be an http(s) URL.');
    if (parsed.username || parsed.password) throw new DomainError('invalid', 'INVALID_ENDPOINT', 'endPoint must not carry credentials.');
    if (this.options.allowPrivate) return;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : await resolveAll(host);
    if (addresses.length === 0 || addresses.some(isRefusedAddress)) {
      throw new DomainError('invalid', REFUSED, `endPoint ${parsed.host} is on a private, loopback or link-local address, which this service does not call.`);
    }
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<DeliveryOutcome> {
    if (!this.options.allowPrivate) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && isRefusedAddress(host)) return { ok: false, reason: `${host} is a refused address` };
    }
    try {
      const response = await request(url, {
        method: 'POST',
        body,
        headers,
        dispatcher: this.agent,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // The answer's body means nothing to delivery; read (bounded by the timeout) and drop it to free the socket.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => {});
      const { statusCode } = response;
      return statusCode >= 200 && statusCode < 300 ? { ok: true, status: statusCode } : { ok: false, status: statusCode, reason: `HTTP ${statusCode}` };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
      return { ok: false, reason: `${code}: ${(error as Error).message}`.slice(0, 300) };
    }
  }

  /** Aborts requests in flight (shutdown): they count as failed attempts and are sent again later. */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve) => dnsLookup(host, { all: true }, (error, addresses) => resolve(error ? [] : addresses.map((a) => a.address))));
}
