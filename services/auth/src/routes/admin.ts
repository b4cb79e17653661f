import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '@forms/contracts';
import type { ClientRegistry } from '../domain/clients';
import type { Keyring } from '../domain/keyring';
import { ClientId, ClientRegistration, ClientView, KeyInfo, problems, RegisteredClient } from './schemas';

export interface AdminRouteOptions {
  apiKey: string;
  clients: ClientRegistry;
  keyring: Keyring;
  rateLimit: { max: number; timeWindowMs: number } | undefined;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The presented key, from `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const bearer = /^Bearer +(\S+) *$/i.exec(typeof headers.authorization === 'string' ? headers.authorization : '');
  if (bearer?.[1]) return bearer[1];
  const header = headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** Client registration and key rotation, behind ADMIN_API_KEY. Not registered at all when no key is configured. */
const adminRoutes: FastifyPluginAsyncTypebox<AdminRouteOptions> = async (app, options) => {
  const expected = digest(options.apiKey);
  const tags = ['Administration'];

  app.addHook('onRequest', async (request, reply) => {
    const key = presentedKey(request.headers);
    // Digests have equal length, so the comparison takes the same time whatever was sent.
    if (key === undefined || !timingSafeEqual(digest(key), expected)) {
      request.log.warn({ presented: key !== undefined }, 'admin request refused');
      reply.header('www-authenticate', 'Bearer realm="admin"');
      throw new DomainError('unauthenticated', 'ADMIN_API_KEY_REQUIRED', 'This endpoint needs the admin API key (Authorization: Bearer <key>)');
    }
  });

  const config = { auth: false, ...(options.rateLimit && { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.timeWindowMs } }) };
  const ClientParams = Type.Object({ clientId: ClientId });

  app.post(
    '/clients',
    { config, schema: { tags, summary: 'Register a client', body: ClientRegistration, response: { 201: RegisteredClient, ...problems(400, 401, 409) } } },
    async (request, reply) => {
      const registered = await options.clients.register(request.body);
      request.log.info({ clientId: registered.client.clientId, authMethod: registered.client.authMethod }, 'client registered');
      reply.code(201).header('cache-control', 'no-store');
      return registered;
    },
  );

  app.get(
    '/clients',
    { config, schema: { tags, summary: 'List clients', response: { 200: Type.Object({ clients: Type.Array(ClientView) }), ...problems(401) } } },
    async () => ({ clients: await options.clients.list() }),
  );

  app.get(
    '/clients/:clientId',
    { config, schema: { tags, summary: 'Get a client', params: ClientParams, response: { 200: ClientView, ...problems(401, 404) } } },
    async (request) => options.clients.get(request.params.clientId),
  );

  app.delete(
    '/clients/:clientId',
    { config, schema: { tags, summary: 'Remove a client', params: ClientParams, response: { 204: Type.Null(), ...problems(401, 404) } } },
    async (request, reply) => {
      await options.clients.remove(request.params.clientId);
      request.log.info({ clientId: request.params.clientId }, 'client removed');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/keys',
    { config, schema: { tags, summary: 'List signing keys', response: { 200: Type.Object({ rotatable: Type.Boolean(), keys: Type.Array(KeyInfo) }), ...problems(401) } } },
    async () => ({ rotatable: options.keyring.rotatable, keys: options.keyring.describe() }),
  );

  app.post(
    '/keys/rotate',
    {
      config,
      schema: {
        tags,
        summary: 'Rotate the signing key',
        description: 'A new key signs from now on; the old one stays in the JWKS until its tokens have expired.',
        response: { 200: Type.Object({ kid: Type.String(), retiredKid: Type.String(), verifyUntil: Type.String() }), ...problems(401, 409) },
      },
    },
    async (request) => {
      const rotated = await options.keyring.rotate();
      request.log.info(rotated, 'signing key rotated');
      return rotated;
    },
  );
};

export default adminRoutes;
