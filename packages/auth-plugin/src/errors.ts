/** Stable codes the app's error handler renders into problem details. */
export type AuthErrorCode = 'UNAUTHENTICATED' | 'INVALID_TOKEN' | 'TOKEN_EXPIRED' | 'JWKS_UNAVAILABLE';

const STATUS_BY_CODE: Record<AuthErrorCode, 401 | 503> = {
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  JWKS_UNAVAILABLE: 503,
};

/** RFC 6750 §3: a missing token gets a bare challenge, a rejected one says why. */
const CHALLENGE_BY_CODE: Partial<Record<AuthErrorCode, string>> = {
  UNAUTHENTICATED: 'Bearer',
  INVALID_TOKEN: 'Bearer error="invalid_token"',
  TOKEN_EXPIRED: 'Bearer error="invalid_token"',
};

/**
 * Shaped like a Fastify error (`statusCode`, `code`, `headers`) so any error handler can render it;
 * Fastify's default handler and the service-kit problem handler both copy `headers` onto the reply.
 */
export class AuthError extends Error {
  readonly statusCode: 401 | 503;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.statusCode = STATUS_BY_CODE[code];
    const challenge = CHALLENGE_BY_CODE[code];
    this.headers = challenge ? { 'www-authenticate': challenge } : {};
  }
}

export const isAuthError = (error: unknown): error is AuthError => error instanceof AuthError;
