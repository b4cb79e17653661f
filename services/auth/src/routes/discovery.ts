import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ALL_SCOPES, Claims } from '@forms/contracts';
import { ASSERTION_ALGORITHMS } from '../domain/assertions';
import { SIGNING_ALGORITHM, type Keyring } from '../domain/keyring';
import { SUPPORTED_GRANT_TYPES } from '../domain/token-service';
import { JWKS_PATH, TOKEN_PATH } from '../config';
import { Jwk } from './schemas';

export interface DiscoveryRouteOptions {
  keyring: Keyring;
  issuer: string;
}

const Jwks = Type.Object({ keys: Type.Array(Jwk) }, { title: 'JWKS' });
const ServerMetadata = Type.Object({}, { additionalProperties: true, title: 'AuthorizationServerMetadata' });

/** The public keys (JWKS) and the metadata documents verifiers and clients discover us by. */
const discoveryRoutes: FastifyPluginAsyncTypebox<DiscoveryRouteOptions> = async (app, options) => {
  const metadata = {
    issuer: options.issuer,
    jwks_uri: `${options.issuer}${JWKS_PATH}`,
    token_endpoint: `${options.issuer}${TOKEN_PATH}`,
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    scopes_supported: [...ALL_SCOPES],
    // OpenID discovery requires these three; there is no authorization endpoint, so no response type but none.
    response_types_supported: ['none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'scope', 'client_id', ...Object.values(Claims)],
  };
  const metadataRoute = { config: { auth: false }, schema: { tags: ['Discovery'], security: [], response: { 200: ServerMetadata } } };

  app.get(
    JWKS_PATH,
    { config: { auth: false }, schema: { tags: ['Discovery'], summary: 'Public keys that verify our tokens', security: [], response: { 200: Jwks } } },
    // Short caching: verifiers refetch on an unknown kid anyway, so a new key is usable at once.
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(options.keyring.jwks()),
  );
  app.get('/.well-known/openid-configuration', { ...metadataRoute, schema: { ...metadataRoute.schema, summary: 'OpenID discovery document' } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').send(metadata),
  );
  app.get(
    '/.well-known/oauth-authorization-server',
    { ...metadataRoute, schema: { ...metadataRoute.schema, summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').send(metadata),
  );
};

export default discoveryRoutes;
