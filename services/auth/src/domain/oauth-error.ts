/** The error codes of RFC 6749 §5.2 that this token endpoint answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

/**
 * A refused token request. `description` goes to the caller; `reason` only to the log, so a failed
 * client authentication can be diagnosed without telling the caller which part was wrong.
 * Neither may ever contain a secret or an assertion.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly reason: string = description,
  ) {
    super(`${error}: ${reason}`);
    this.name = 'OAuthError';
  }
}

export const isOAuthError = (error: unknown): error is OAuthError => error instanceof OAuthError;

/** One answer for every failed client authentication: unknown client, wrong secret, bad assertion. */
export const CLIENT_AUTHENTICATION_FAILED = 'Client authentication failed';

export const clientAuthenticationFailed = (reason: string): OAuthError =>
  new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED, reason);
