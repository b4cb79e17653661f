import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, PartyId, Slug } from '@forms/contracts';
import { issueTestToken } from '../domain/test-tokens';
import type { TokenSubject } from '../domain/subjects';
import type { TokenIssuer } from '../domain/token-issuer';
import { AuthLevel, ClientId, OrgNumber, problems, Scope, TokenResponse, UserId } from './schemas';

export interface TestTokenRouteOptions {
  issuer: TokenIssuer;
  rateLimit: { max: number; timeWindowMs: number } | undefined;
}

const common = {
  scopes: Type.Optional(Type.Array(Scope, { maxItems: 4, uniqueItems: true, description: 'Default: read and write for the kind' })),
  expiresInSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'At most TOKEN_LIFETIME_SECONDS' })),
};

/** One of three exclusive shapes; which one decides the kind of token. */
const TestTokenRequest = Type.Union(
  [
    Type.Object({ userId: UserId, partyId: PartyId, authLevel: Type.Optional(AuthLevel), ...common }, { additionalProperties: false, title: 'UserTestToken' }),
    Type.Object(
      {
        org: Slug,
        orgNumber: Type.Optional(OrgNumber),
        app: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{1,63}/[a-z][a-z0-9-]{1,63}$', description: "An app service's own token: `<org>/<app>` of the org" })),
        ...common,
      },
      { additionalProperties: false, title: 'OrgTestToken' },
    ),
    Type.Object({ systemId: ClientId, partyId: PartyId, ...common }, { additionalProperties: false, title: 'SystemTestToken' }),
  ],
  { description: 'A person ({userId, partyId, authLevel?}), an org ({org, orgNumber?}) or an end-user system ({systemId, partyId})' },
);

const DEFAULT_TEST_AUTH_LEVEL = 2;

/** `POST /testtoken`: only registered when TEST_TOKENS_ENABLED is set (never in production). */
const testTokenRoutes: FastifyPluginAsyncTypebox<TestTokenRouteOptions> = async (app, options) => {
  app.post(
    '/testtoken',
    {
      config: {
        auth: false,
        ...(options.rateLimit && { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.timeWindowMs } }),
      },
      schema: {
        tags: ['Development'],
        summary: 'Mint a development token (only when TEST_TOKENS_ENABLED)',
        security: [],
        body: TestTokenRequest,
        response: { 200: TokenResponse, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let subject: TokenSubject;
      if ('org' in body) {
        if (body.app !== undefined && !body.app.startsWith(`${body.org}/`)) {
          throw new DomainError('invalid', 'INVALID_APP', `app "${body.app}" is not an app of ${body.org}`);
        }
        subject = { kind: 'org', org: body.org, ...(body.orgNumber !== undefined && { orgNumber: body.orgNumber }), ...(body.app !== undefined && { app: body.app }) };
      }
      else if ('userId' in body) subject = { kind: 'user', userId: body.userId, partyId: body.partyId, authLevel: body.authLevel ?? DEFAULT_TEST_AUTH_LEVEL };
      else subject = { kind: 'system', systemId: body.systemId, partyId: body.partyId };
      const token = await issueTestToken(options.issuer, subject, body.scopes, body.expiresInSeconds);
      request.log.info({ subject, scope: token.scope }, 'test token issued');
      reply.header('cache-control', 'no-store');
      return token;
    },
  );
};

export default testTokenRoutes;
