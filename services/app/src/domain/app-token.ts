import { Claims, DomainError } from '@forms/contracts';
import { fetchOrgToken, orgClientOf, OrgTokenError, type OrgClient, type OrgTokenConfig, type OrgTokenOptions } from './org-token';

/**
 * The app service's own token: the token service gives the app's client (an org client registered for this one
 * app, `clients add --kind org --app <org>/<app>`) a token naming the app (`urn:altinn:app`). The service sends it
 * to storage beside the party's token on every call, so storage knows the app acts for the party; alone it
 * registers the app at start-up. A client's token is renewed before it expires; ORG_TOKEN is used as it is.
 */
export interface AppTokenSource {
  token(): Promise<string>;
}

/** Renewed this long before `exp`, so a token never expires on its way to storage. */
const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** While serving, a token service that is away is retried this long before the request fails with 503. */
const RENEW_RETRY = { retryForMs: 5_000, firstDelayMs: 250, maxDelayMs: 1_000 };

/** The claims of a token, unverified: the service reads its own token's lifetime and app, storage verifies it. */
function claimsOf(token: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Refuses a token that does not name this app: storage would refuse every write made with it. */
export function checkAppToken(token: string, appId: string, from: string): void {
  const app = claimsOf(token)[Claims.app];
  if (app !== appId) {
    throw new OrgTokenError(
      `the token from ${from} names ${typeof app === 'string' ? `the app ${app}` : 'no app'}, not ${appId}: give the app its own client (clients add --kind org --app ${appId})`,
    );
  }
}

class FixedAppToken implements AppTokenSource {
  constructor(private readonly value: string) {}
  token(): Promise<string> {
    return Promise.resolve(this.value);
  }
}

class ClientCredentialsAppToken implements AppTokenSource {
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly tokenUrl: string,
    private readonly client: OrgClient,
    private readonly options: OrgTokenOptions,
  ) {}

  /** A fresh token; concurrent callers share one renewal. */
  token(): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.current && now < this.current.renewAt) return Promise.resolve(this.current.token);
    this.pending ??= this.renew(this.current === undefined).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async renew(first: boolean): Promise<string> {
    let token: string;
    try {
      // At start-up the token service gets a minute to come up; while serving, a request waits seconds at most.
      token = await fetchOrgToken(this.tokenUrl, this.client, first ? this.options : { ...this.options, retry: RENEW_RETRY });
    } catch (error) {
      if (first || !(error instanceof OrgTokenError)) throw error;
      throw new DomainError('unavailable', 'APP_TOKEN_UNAVAILABLE', 'The app service could not renew its own token; try again shortly.');
    }
    if (first) {
      this.options.log.info({ clientId: this.client.clientId, from: this.client.from }, `app token for client ${this.client.clientId} (from ${this.client.from}) obtained`);
    }
    const exp = claimsOf(token).exp;
    const now = (this.options.now ?? Date.now)();
    const renewAt = typeof exp === 'number' ? Math.max(now, exp * 1000 - RENEW_BEFORE_EXPIRY_MS) : now;
    this.current = { token, renewAt };
    return token;
  }
}

/** The source configured (ORG_TOKEN wins over a client), or undefined when there is none. Throws OrgTokenError. */
export function appTokenSource(config: OrgTokenConfig, options: OrgTokenOptions): AppTokenSource | undefined {
  if (config.ORG_TOKEN !== undefined) {
    if (config.ORG_CLIENT_ID !== undefined || config.ORG_CLIENT_FILE !== undefined) {
      options.log.info({}, 'ORG_TOKEN is set and used as it is; the app client is not used');
    }
    return new FixedAppToken(config.ORG_TOKEN);
  }
  const client = orgClientOf(config);
  if (!client) {
    options.log.info({}, 'no ORG_TOKEN, ORG_CLIENT_ID/ORG_CLIENT_SECRET or ORG_CLIENT_FILE: the app is not registered in storage at start-up');
    return undefined;
  }
  if (config.ORG_TOKEN_URL === undefined) throw new OrgTokenError('ORG_TOKEN_URL (the token endpoint) is required with an org client');
  return new ClientCredentialsAppToken(config.ORG_TOKEN_URL, client, options);
}

/** The app's first token, to register the app with at start-up; undefined when none is configured. Throws OrgTokenError. */
export async function obtainAppToken(config: OrgTokenConfig, options: OrgTokenOptions): Promise<{ source: AppTokenSource; token: string } | undefined> {
  const source = appTokenSource(config, options);
  return source && { source, token: await source.token() };
}
