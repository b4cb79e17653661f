import { Type } from '@sinclair/typebox';
import formBody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { isDomainError } from '@forms/contracts';
import { isOAuthError, OAuthError, type OAuthErrorCode } from '../domain/oauth-error';
import type { ClientAuthentication, TokenService } from '../domain/token-service';
import { OAuthErrorResponse, TokenResponse } from './schemas';

export interface TokenRouteOptions {
  tokens: TokenService;
  /** Realm of the Basic challenge on 401. */
  realm: string;
  rateLimit: { max: number; timeWindowMs: number } | undefined;
}

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const MAX_ASSERTION_LENGTH = 16_384;

/**
 * The token request of RFC 6749 §4.4 (and RFC 7523). Parameters are strings; a parameter sent twice arrives
 * as an array and fails validation, as §3.2 requires ("MUST NOT be included more than once"). Unknown
 * parameters are ignored (§3.2).
 */
const TokenForm = Type.Object(
  {
    grant_type: Type.String({ minLength: 1, maxLength: 256 }),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 512 })),
    client_assertion_type: Type.Optional(Type.String({ maxLength: 256 })),
    client_assertion: Type.Optional(Type.String({ maxLength: MAX_ASSERTION_LENGTH })),
    assertion: Type.Optional(Type.String({ maxLength: MAX_ASSERTION_LENGTH })),
  },
  { additionalProperties: true },
);
type TokenFormBody = typeof TokenForm.static;

const STATUS_BY_ERROR: Record<OAuthErrorCode, 400 | 401> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
};

/**
 * `POST /token`. Errors here are OAuth error bodies (RFC 6749 §5.2), not problem details: this scope has its
 * own error handler. Every failure is logged with its reason and the client id, never with a secret or an assertion.
 */
const tokenRoutes: FastifyPluginAsyncTypebox<TokenRouteOptions> = async (app, options) => {
  await app.register(formBody);

  const sendError = (reply: FastifyReply, status: number, error: string, description: string) => {
    if (status === 401) reply.header('www-authenticate', `Basic realm="${options.realm}", charset="UTF-8"`);
    return reply.code(status).header('cache-control', 'no-store').header('pragma', 'no-cache').send({ error, error_description: description });
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const clientId = clientIdHint(request);
    if (isOAuthError(error)) {
      request.log.info({ oauthError: error.error, reason: error.reason, clientId }, 'token request refused');
      return sendError(reply, STATUS_BY_ERROR[error.error], error.error, error.description);
    }
    if (error.validation) {
      request.log.info({ oauthError: 'invalid_request', reason: error.message, clientId }, 'token request refused');
      return sendError(reply, 400, 'invalid_request', `Malformed token request: ${error.message}`);
    }
    if (error.statusCode === 429) {
      request.log.warn({ clientId }, 'token request rate limited');
      return sendError(reply, 429, 'temporarily_unavailable', error.message);
    }
    if (isDomainError(error) && error.kind === 'unavailable') {
      request.log.error({ err: error }, 'token request failed: store unavailable');
      return sendError(reply, 503, 'temporarily_unavailable', 'The token service cannot serve requests right now');
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own rejections of the body: malformed encoding, too large.
      request.log.info({ oauthError: 'invalid_request', reason: error.message, clientId }, 'token request refused');
      return sendError(reply, 400, 'invalid_request', error.message);
    }
    request.log.error({ err: error }, 'token request failed');
    return sendError(reply, 500, 'server_error', 'An unexpected error occurred');
  });

  // Before the body is parsed: a JSON or multipart body is refused in OAuth terms, not with 415 problem details.
  app.addHook('onRequest', async (request) => {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== FORM_CONTENT_TYPE) {
      throw new OAuthError('invalid_request', `The token request must be ${FORM_CONTENT_TYPE}`, `content type ${mediaType || 'missing'}`);
    }
  });

  app.post(
    '/token',
    {
      bodyLimit: 64 * 1024,
      config: {
        auth: false,
        ...(options.rateLimit && {
          rateLimit: {
            max: options.rateLimit.max,
            timeWindow: options.rateLimit.timeWindowMs,
            // After parsing, so the key can be the client id from the form as well as from the Basic header.
            hook: 'preValidation' as const,
            keyGenerator: (request: FastifyRequest) => {
              const clientId = clientIdHint(request);
              return clientId !== undefined ? `client:${clientId}` : `ip:${request.ip}`;
            },
            errorResponseBuilder: (_request: FastifyRequest, context: { statusCode: number; after: string }) =>
              Object.assign(new Error(`Too many token requests; retry in ${context.after}`), { statusCode: context.statusCode }),
          },
        }),
      },
      schema: {
        tags: ['OAuth 2.0'],
        summary: 'Get an access token (client credentials)',
        description:
          'grant_type=client_credentials with client_secret_basic, client_secret_post or private_key_jwt (RFC 7523), ' +
          'or grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with a signed `assertion`. Form-encoded.',
        consumes: [FORM_CONTENT_TYPE],
        security: [],
        body: TokenForm,
        response: { 200: TokenResponse, 400: OAuthErrorResponse, 401: OAuthErrorResponse, 429: OAuthErrorResponse, 503: OAuthErrorResponse },
      },
    },
    async (request, reply) => {
      const form = request.body;
      const { token, client } = await options.tokens.handle({
        grantType: form.grant_type,
        ...(form.scope !== undefined ? { scope: form.scope } : {}),
        ...(form.assertion !== undefined ? { assertion: form.assertion } : {}),
        clientAuthentication: clientAuthenticationOf(request.headers.authorization, form),
      });
      request.log.info({ clientId: client.clientId, scope: token.scope, grantType: form.grant_type }, 'token issued');
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return token;
    },
  );
};

export default tokenRoutes;

/**
 * Reads how the client authenticates. RFC 6749 §2.3: exactly one method per request. Basic credentials are
 * form-encoded before base64 (§2.3.1), so they are decoded as such.
 */
function clientAuthenticationOf(authorization: string | undefined, form: TokenFormBody): ClientAuthentication {
  const found: ClientAuthentication[] = [];
  if (authorization !== undefined) {
    const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization);
    if (!basic?.[1]) throw new OAuthError('invalid_client', 'Client authentication failed', 'Authorization header is not Basic credentials');
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const clientId = colon > 0 ? formDecode(decoded.slice(0, colon)) : undefined;
    const secret = colon > 0 ? formDecode(decoded.slice(colon + 1)) : undefined;
    if (clientId === undefined || secret === undefined) {
      throw new OAuthError('invalid_client', 'Client authentication failed', 'malformed Basic credentials');
    }
    if (form.client_id !== undefined && form.client_id !== clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the client in the Authorization header');
    }
    found.push({ method: 'client_secret_basic', clientId, secret });
  }
  if (form.client_secret !== undefined) {
    if (form.client_id === undefined) throw new OAuthError('invalid_request', 'client_id is required with client_secret');
    found.push({ method: 'client_secret_post', clientId: form.client_id, secret: form.client_secret });
  }
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    if (form.client_assertion === undefined || form.client_assertion_type === undefined) {
      throw new OAuthError('invalid_request', 'client_assertion and client_assertion_type go together');
    }
    found.push({
      method: 'private_key_jwt',
      assertionType: form.client_assertion_type,
      assertion: form.client_assertion,
      ...(form.client_id !== undefined ? { clientId: form.client_id } : {}),
    });
  }
  if (found.length > 1) throw new OAuthError('invalid_request', 'Use exactly one client authentication method');
  return found[0] ?? { method: 'none', ...(form.client_id !== undefined ? { clientId: form.client_id } : {}) };
}

/** application/x-www-form-urlencoded decoding of one value; undefined when malformed. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The client a request claims to be, unverified: for rate limiting and log lines only. From the Basic header,
 * the client_id parameter, or the issuer of the (client) assertion.
 */
export function clientIdHint(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  const basic = authorization !== undefined ? /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization) : null;
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return formDecode(decoded.slice(0, colon))?.slice(0, 256);
  }
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const form = body as Record<string, unknown>;
  if (typeof form.client_id === 'string' && form.client_id !== '') return form.client_id.slice(0, 256);
  const assertion = typeof form.client_assertion === 'string' ? form.client_assertion : typeof form.assertion === 'string' ? form.assertion : undefined;
  if (assertion === undefined || assertion.length > MAX_ASSERTION_LENGTH) return undefined;
  try {
    const { iss } = decodeJwt(assertion);
    return typeof iss === 'string' && iss !== '' ? iss.slice(0, 256) : undefined;
  } catch {
    return undefined;
  }
}
