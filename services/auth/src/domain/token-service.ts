import type { ClientStore } from './ports/client-store';
import { JWT_BEARER_ASSERTION_TYPE, type AssertionVerifier } from './assertions';
import type { ClientRecord } from './clients';
import { clientAuthenticationFailed, OAuthError } from './oauth-error';
import { verifyAgainstDummy, verifyClientSecret } from './secrets';
import { grantScopes, parseScopeParameter } from './subjects';
import type { IssuedToken, TokenIssuer } from './token-issuer';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
/** RFC 7523 §2.1: a JWT (signed by the client) as the authorization grant, as Maskinporten uses it. */
export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const SUPPORTED_GRANT_TYPES = [GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER] as const;

/** How the client authenticated, as read off the HTTP request (see routes/token.ts). */
export type ClientAuthentication =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId?: string; assertionType: string; assertion: string }
  | { method: 'none'; clientId?: string };

export interface TokenRequest {
  grantType: string;
  scope?: string;
  /** The `assertion` parameter of the jwt-bearer grant. */
  assertion?: string;
  clientAuthentication: ClientAuthentication;
}

export interface TokenResult {
  token: IssuedToken;
  client: ClientRecord;
}

/** The token endpoint's logic: authenticate the client, check the grant and the scopes, mint the token. */
export class TokenService {
  constructor(
    private readonly store: ClientStore,
    private readonly assertions: AssertionVerifier,
    private readonly issuer: TokenIssuer,
  ) {}

  async handle(request: TokenRequest): Promise<TokenResult> {
    switch (request.grantType) {
      case GRANT_CLIENT_CREDENTIALS: {
        const client = await this.authenticateClient(request.clientAuthentication);
        return this.grant(client, request.scope);
      }
      case GRANT_JWT_BEARER: {
        if (request.clientAuthentication.method !== 'none') {
          throw new OAuthError('invalid_request', 'The jwt-bearer grant authenticates the client by its assertion; send no other client credentials');
        }
        if (request.assertion === undefined) throw new OAuthError('invalid_request', 'The assertion parameter is required');
        const { client, claims } = await this.assertions.verify(request.assertion, 'grant', request.clientAuthentication.clientId);
        // Maskinporten-style clients put the scope in the assertion; a scope parameter takes precedence.
        const scopeClaim = typeof claims.scope === 'string' ? claims.scope : undefined;
        return this.grant(client, request.scope ?? scopeClaim);
      }
      default:
        throw new OAuthError('unsupported_grant_type', `grant_type must be one of ${SUPPORTED_GRANT_TYPES.join(', ')}`);
    }
  }

  private async grant(client: ClientRecord, scope: string | undefined): Promise<TokenResult> {
    const scopes = grantScopes(client.subject.kind, parseScopeParameter(scope), client.scopes);
    const token = await this.issuer.issue({ subject: client.subject, scopes, sub: client.clientId, clientId: client.clientId });
    return { token, client };
  }

  private async authenticateClient(authentication: ClientAuthentication): Promise<ClientRecord> {
    switch (authentication.method) {
      case 'none':
        throw clientAuthenticationFailed('no client authentication');
      case 'private_key_jwt':
        if (authentication.assertionType !== JWT_BEARER_ASSERTION_TYPE) {
          throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
        }
        return (await this.assertions.verify(authentication.assertion, 'client', authentication.clientId)).client;
      case 'client_secret_basic':
      case 'client_secret_post': {
        const client = await this.store.getClient(authentication.clientId);
        if (!client || client.credential.method !== 'client_secret') {
          await verifyAgainstDummy(authentication.secret); // as slow as a wrong secret: the answer must not tell which
          throw clientAuthenticationFailed(client ? `client ${authentication.clientId} has no secret` : `unknown client ${authentication.clientId}`);
        }
        if (!(await verifyClientSecret(authentication.secret, client.credential.secretHash))) {
          throw clientAuthenticationFailed(`wrong secret for client ${authentication.clientId}`);
        }
        return client;
      }
    }
  }
}
