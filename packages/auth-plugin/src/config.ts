import { Type, type Static } from '@sinclair/typebox';
import type { AuthPluginOptions } from './plugin';

/**
 * The environment every service that verifies tokens reads (spread into its config schema), and the plugin
 * options it gives: one definition, so the services cannot drift apart in names or defaults.
 */
export const TokenVerificationConfig = {
  JWKS_URL: Type.String({ default: 'http://127.0.0.1:5100/.well-known/jwks.json' }),
  TOKEN_ISSUER: Type.String({ default: 'http://127.0.0.1:5100' }),
  TOKEN_AUDIENCE: Type.Optional(Type.String()),
  /** Longest token lifetime (exp - iat) accepted: the token service's TOKEN_LIFETIME_SECONDS cap. */
  TOKEN_MAX_LIFETIME_SECONDS: Type.Integer({ default: 86_400, minimum: 60 }),
  /** Shortest time between two JWKS fetches caused by tokens with an unknown kid (a new key's first token refetches at once). */
  JWKS_REFETCH_INTERVAL_MS: Type.Integer({ default: 5_000, minimum: 0 }),
};
const TokenVerificationSchema = Type.Object(TokenVerificationConfig);
export type TokenVerificationConfig = Static<typeof TokenVerificationSchema>;

/** The auth plugin's options from a service's validated config. */
export function authOptionsFromConfig(config: TokenVerificationConfig): AuthPluginOptions {
  return {
    jwksUrl: config.JWKS_URL,
    issuer: config.TOKEN_ISSUER,
    ...(config.TOKEN_AUDIENCE && { audience: config.TOKEN_AUDIENCE }),
    maxTokenLifetimeSeconds: config.TOKEN_MAX_LIFETIME_SECONDS,
    jwksRefetchIntervalMs: config.JWKS_REFETCH_INTERVAL_MS,
  };
}
