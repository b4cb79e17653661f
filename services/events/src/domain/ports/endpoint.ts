/** How a delivery went: `ok` for a 2xx, otherwise why not (status, timeout, refused address, network error). */
export type DeliveryOutcome = { ok: true; status: number } | { ok: false; status?: number; reason: string };

/** Sends one signed POST to a subscriber's endpoint (adapters/http-endpoint.ts: undici, SSRF guard, no redirects). */
export interface EndpointClient {
  post(url: string, body: string, headers: Record<string, string>): Promise<DeliveryOutcome>;
  /** Throws a DomainError when the endpoint may not be used (scheme, refused address). */
  check(url: string): Promise<void>;
}
