import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader, exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { authPlugin } from '@forms/auth-plugin';
import type { TypedFastify } from '@forms/service-kit';
import { buildAuthService } from '../../src/app';
import { ADMIN_PREFIX, loadAuthConfig, TOKEN_PATH, type AuthConfig } from '../../src/config';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const ISSUER = 'http://auth.test';
export const AUDIENCE = 'forms-platform';
export const TOKEN_URL = `${ISSUER}${TOKEN_PATH}`;
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}` };

export interface AuthHarness {
  app: TypedFastify;
  config: AuthConfig;
  dataDir: string;
  /** Base URL when started with `listen: true`. */
  url: string;
  /** POSTs a form to the token endpoint. */
  token(form: Record<string, string>, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  registerClient(registration: Record<string, unknown>): Promise<{ clientId: string; clientSecret?: string }>;
  /** Registers a private_key_jwt client with a fresh key pair and returns its private key. */
  registerKeyClient(registration: Record<string, unknown>, algorithm?: 'RS256' | 'ES256' | 'EdDSA'): Promise<KeyClient>;
  close(options?: { keepDataDir?: boolean }): Promise<void>;
}

export interface KeyClient {
  clientId: string;
  privateKey: KeyObject;
  alg: 'RS256' | 'ES256' | 'EdDSA';
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (restart tests); default a fresh temp folder. */
  dataDir?: string;
  listen?: boolean;
  logger?: Parameters<typeof buildAuthService>[0]['logger'];
  now?: () => number;
}

/** A token service on the embedded store in a temp folder, with the admin API and test tokens on. */
export async function startAuth(options: StartOptions = {}): Promise<AuthHarness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'auth-test-'));
  const config = loadAuthConfig({
    DATA_DIR: dataDir,
    ISSUER,
    ADMIN_API_KEY: ADMIN_KEY,
    TEST_TOKENS_ENABLED: 'true',
    RATE_LIMIT_MAX: '10000',
    ...options.env,
  });
  const app = await buildAuthService({ config, logger: options.logger ?? false, ...(options.now && { now: options.now }) });
  let url = '';
  if (options.listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  } else {
    await app.ready();
  }

  const harness: AuthHarness = {
    app,
    config,
    dataDir,
    url,
    token: (form, headers = {}) =>
      app.inject({
        method: 'POST',
        url: TOKEN_PATH,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: new URLSearchParams(form).toString(),
      }),
    async registerClient(registration) {
      const response = await app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/clients`, headers: adminHeaders, payload: registration });
      if (response.statusCode !== 201) throw new Error(`register client: ${response.statusCode} ${response.body}`);
      const body = response.json<{ client: { clientId: string }; clientSecret?: string }>();
      return { clientId: body.client.clientId, ...(body.clientSecret !== undefined ? { clientSecret: body.clientSecret } : {}) };
    },
    async registerKeyClient(registration, alg = 'RS256') {
      const { privateKey, publicKey } = keyPairFor(alg);
      const { clientId } = await harness.registerClient({ ...registration, publicKey: await exportJWK(publicKey) });
      return { clientId, privateKey, alg };
    },
    async close(closeOptions = {}) {
      await app.close();
      if (!closeOptions.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export function keyPairFor(alg: 'RS256' | 'ES256' | 'EdDSA'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return generateKeyPairSync('ed25519');
}

export const basic = (clientId: string, secret: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/** A client assertion as a well-behaved client makes it; `claims` and `header` override (undefined removes a claim). */
export async function signAssertion(
  client: Pick<KeyClient, 'clientId' | 'privateKey' | 'alg'>,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { iss: client.clientId, sub: client.clientId, aud: ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: client.alg, typ: 'JWT', ...header }).sign(client.privateKey);
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A JWT put together by hand, for the forgeries a library would refuse to produce. */
export function craftJwt(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${sign(input)}`;
}

export const hmac = (secret: string | Buffer) => (input: string) => createHmac('sha256', secret).update(input).digest('base64url');

export function assertionClaims(clientId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: ISSUER, iat: now, exp: now + 60, jti: randomUUID(), ...overrides };
}

export const clientAssertionForm = (assertion: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'client_credentials',
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: assertion,
  ...extra,
});

export interface DecodedToken {
  header: ReturnType<typeof decodeProtectedHeader>;
  claims: JWTPayload & Record<string, unknown>;
}

export const decodeToken = (token: string): DecodedToken => ({ header: decodeProtectedHeader(token), claims: decodeJwt(token) });

/**
 * A bare verifier like every platform service runs: auth-plugin against the token service's JWKS,
 * answering `/whoami` with the principal it made of the token.
 */
export async function startVerifier(authUrl: string, audience: string = AUDIENCE): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setErrorHandler<FastifyError>((error, _request, reply) =>
    reply.code(error.statusCode ?? 500).send({ statusCode: error.statusCode ?? 500, code: error.code, message: error.message }),
  );
  await app.register(authPlugin, { jwksUrl: `${authUrl}/.well-known/jwks.json`, issuer: ISSUER, audience });
  app.get('/whoami', async (request) => ({ principal: request.principal }));
  await app.ready();
  return app;
}

export const whoami = (verifier: FastifyInstance, token: string) =>
  verifier.inject({ method: 'GET', url: '/whoami', headers: { authorization: `Bearer ${token}` } });

export const accessTokenOf = (response: LightMyRequestResponse): string => {
  if (response.statusCode !== 200) throw new Error(`token request: ${response.statusCode} ${response.body}`);
  return response.json<{ access_token: string }>().access_token;
};

export type { JWK };
