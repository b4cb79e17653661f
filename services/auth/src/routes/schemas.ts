import { Type, type Static } from '@sinclair/typebox';
import { ALL_SCOPES, PartyId, ProblemDetails, Slug } from '@forms/contracts';
import { CLIENT_ID_PATTERN } from '../domain/clients';

/** Documented error responses of the non-OAuth routes; the body is always RFC 7807 problem details. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));

export const Scope = Type.Union(
  ALL_SCOPES.map((scope) => Type.Literal(scope)),
  { description: 'A platform scope' },
);
export const OrgNumber = Type.String({ pattern: '^[0-9]{9}$', description: 'Nine-digit organisation number' });
export const UserId = Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'Numeric user id' });
export const ClientId = Type.String({ pattern: CLIENT_ID_PATTERN, description: 'Client id' });
export const AuthLevel = Type.Integer({ minimum: 0, maximum: 4, description: 'Authentication level (0-4)' });

/** RFC 6749 §5.1. */
export const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
    scope: Type.String({ description: 'Granted scopes, space-separated' }),
  },
  { title: 'TokenResponse' },
);

/** RFC 6749 §5.2. */
export const OAuthErrorResponse = Type.Object(
  { error: Type.String(), error_description: Type.Optional(Type.String()) },
  { title: 'OAuthError', additionalProperties: false },
);

export const TokenSubject = Type.Union(
  [
    Type.Object({ kind: Type.Literal('org'), org: Type.String(), orgNumber: Type.Optional(Type.String()), app: Type.Optional(Type.String()) }),
    Type.Object({ kind: Type.Literal('user'), userId: Type.String(), partyId: Type.String(), authLevel: Type.Integer() }),
    Type.Object({ kind: Type.Literal('system'), systemId: Type.String(), partyId: Type.String() }),
  ],
  { title: 'TokenSubject', description: "Whom the client's tokens speak for" },
);

export const Jwk = Type.Object({ kty: Type.String() }, { additionalProperties: true, title: 'JWK' });

export const ClientView = Type.Object(
  {
    clientId: Type.String(),
    name: Type.Optional(Type.String()),
    subject: TokenSubject,
    scopes: Type.Array(Type.String()),
    authMethod: Type.Union([Type.Literal('private_key_jwt'), Type.Literal('client_secret')]),
    publicJwk: Type.Optional(Jwk),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Client' },
);

export const ClientRegistration = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    kind: Type.Union([Type.Literal('org'), Type.Literal('system'), Type.Literal('user')], {
      description: 'org: an org integration; system: an end-user system for a party (with userId: acting as that user); user: same as system with userId',
    }),
    org: Type.Optional(Slug),
    orgNumber: Type.Optional(OrgNumber),
    app: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{1,63}/[a-z][a-z0-9-]{1,63}$', description: "org clients only: the app (`<org>/<app>`) whose own client this is; its tokens name the app" })),
    partyId: Type.Optional(PartyId),
    userId: Type.Optional(UserId),
    systemId: Type.Optional(ClientId),
    authLevel: Type.Optional(AuthLevel),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: ALL_SCOPES.length, uniqueItems: true }),
    publicKey: Type.Optional(
      Type.Union([Jwk, Type.String({ maxLength: 8192, description: 'SPKI PEM' })], {
        description: 'Public key for private_key_jwt (JWK or PEM). Without it, a client secret is generated and returned once.',
      }),
    ),
  },
  { title: 'ClientRegistration', additionalProperties: false },
);
export type ClientRegistrationBody = Static<typeof ClientRegistration>;

export const RegisteredClient = Type.Object({
  client: ClientView,
  clientSecret: Type.Optional(Type.String({ description: 'Shown once; only its hash is stored' })),
});

export const KeyInfo = Type.Object({
  kid: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  createdAt: Type.String(),
  retiredAt: Type.Optional(Type.String()),
  verifyUntil: Type.Optional(Type.String()),
});
