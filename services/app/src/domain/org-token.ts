import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { TokenClient } from '@forms/client';
import { DomainError } from '@forms/contracts';
import { authUrlOf, type AppServiceConfig } from '../config';

/**
 * Where the org token for the app's registration in storage comes from. A token expires and a client secret does
 * not, so a container is best given the org's client and gets a fresh token whenever it starts:
 *
 *   ORG_TOKEN                            used as it is (wins over a client)
 *   ORG_CLIENT_ID + ORG_CLIENT_SECRET    client credentials grant at ORG_TOKEN_URL
 *   ORG_CLIENT_FILE                      the same, id and secret from a JSON file: what the token service's
 *                                        `clients add` prints ({"client": {"clientId"}, "clientSecret"}), or
 *                                        {"clientId", "clientSecret"}
 *   none of these                        no token: the app is not registered, storage must know it already
 *
 * The token service may still be starting: unreachable, 5xx, 429 and timeouts are retried with backoff for a
 * minute. A refusal (any other 4xx: wrong secret, unknown client, wrong URL) ends the start at once. Neither the
 * secret nor the token is ever logged or put into an error.
 */

export type OrgTokenConfig = Pick<AppServiceConfig, 'ORG_TOKEN' | 'ORG_TOKEN_URL' | 'ORG_CLIENT_ID' | 'ORG_CLIENT_SECRET' | 'ORG_CLIENT_FILE'>;

export interface OrgClient {
  clientId: string;
  clientSecret: string;
  /** Where it was configured (`ORG_CLIENT_ID`, or the file's path), for the log. */
  from: string;
}

/** The start cannot go on: misconfigured client, refused client, or no token service in time. Message without secrets. */
export class OrgTokenError extends Error {
  override readonly name = 'OrgTokenError';
}

/** What is logged to: the app's pino logger. */
export interface OrgTokenLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface RetryPolicy {
  /** How long, from the first attempt, a token service that is not there yet is retried. */
  retryForMs: number;
  /** Wait after the first failure; doubled after each further one, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retryForMs: 60_000, firstDelayMs: 500, maxDelayMs: 5_000 };
/** Each token request's own timeout. */
export const DEFAULT_TOKEN_TIMEOUT_MS = 10_000;

export interface OrgTokenOptions {
  log: OrgTokenLog;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/** The org client from ORG_CLIENT_ID/ORG_CLIENT_SECRET or ORG_CLIENT_FILE; undefined when neither is set. */
export function orgClientOf(config: OrgTokenConfig): OrgClient | undefined {
  if (config.ORG_CLIENT_ID !== undefined || config.ORG_CLIENT_SECRET !== undefined) {
    if (!config.ORG_CLIENT_ID || !config.ORG_CLIENT_SECRET) throw new OrgTokenError('set both ORG_CLIENT_ID and ORG_CLIENT_SECRET');
    return { clientId: config.ORG_CLIENT_ID, clientSecret: config.ORG_CLIENT_SECRET, from: 'ORG_CLIENT_ID' };
  }
  return config.ORG_CLIENT_FILE === undefined ? undefined : readOrgClientFile(config.ORG_CLIENT_FILE);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{"client": {"clientId"}, "clientSecret"}` (the CLI's `clients add`) or `{"clientId", "clientSecret"}`. */
export function readOrgClientFile(path: string): OrgClient {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OrgTokenError(`ORG_CLIENT_FILE ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which holds the secret.
    throw new OrgTokenError(`ORG_CLIENT_FILE ${path} is not JSON`);
  }
  const file = isRecord(parsed) ? parsed : {};
  const clientId = (isRecord(file.client) ? file.client.clientId : undefined) ?? file.clientId;
  const { clientSecret } = file;
  if (typeof clientId !== 'string' || clientId === '') throw new OrgTokenError(`ORG_CLIENT_FILE ${path} has no clientId`);
  if (typeof clientSecret !== 'string' || clientSecret === '') {
    throw new OrgTokenError(`ORG_CLIENT_FILE ${path} has no clientSecret (the org client must authenticate with a secret)`);
  }
  return { clientId, clientSecret, from: path };
}

/** Worth another try: the token service is not there (yet), overloaded, or limiting this client's rate. */
function isTransient(error: DomainError): boolean {
  return error.kind === 'unavailable' || error.kind === 'timeout' || error.code === 'temporarily_unavailable' || error.code === 'HTTP_429';
}

/** Client credentials at the token endpoint, retried while the token service is not there. Throws OrgTokenError. */
export async function fetchOrgToken(tokenUrl: string, client: OrgClient, options: OrgTokenOptions): Promise<string> {
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  let tokens: TokenClient;
  try {
    tokens = new TokenClient({
      authUrl: authUrlOf(tokenUrl),
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      timeoutMs: options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS,
    });
  } catch (error) {
    throw new OrgTokenError((error as Error).message);
  }
  const deadline = now() + retry.retryForMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await tokens.getToken()).accessToken;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const problem = withoutSecret(`${error.code}: ${error.message}`, client.clientSecret);
      if (!isTransient(error)) throw new OrgTokenError(`the token service at ${tokenUrl} refused org client ${client.clientId}: ${problem}`);
      const wait = Math.min(retry.firstDelayMs * 2 ** (attempt - 1), retry.maxDelayMs, deadline - now());
      if (wait <= 0) {
        throw new OrgTokenError(`no org token from ${tokenUrl} after ${attempt} attempts in ${Math.round(retry.retryForMs / 1000)} s: ${problem}`);
      }
      options.log.warn({ tokenUrl, attempt, code: error.code }, `no org token from ${tokenUrl} yet (${problem}); retrying in ${wait} ms`);
      await sleep(wait);
    }
  }
}

/** An error text from the other end could echo what it was sent; the secret never gets further. */
function withoutSecret(text: string, secret: string): string {
  return [secret, encodeURIComponent(secret)].reduce((result, form) => result.split(form).join('[secret]'), text);
}
