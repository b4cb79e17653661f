import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { TestIssuer } from '@forms/test-support';
import { authPlugin, type AuthPluginOptions } from '../src';

/** A bare app with the plugin, a protected `/whoami`, an open `/health` and an error handler that echoes the code. */
export async function buildApp(issuer: TestIssuer, overrides: Partial<AuthPluginOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setErrorHandler<FastifyError>((error, _request, reply) =>
    reply.code(error.statusCode ?? 500).send({ statusCode: error.statusCode ?? 500, code: error.code }),
  );
  await app.register(authPlugin, { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, ...overrides });
  app.get('/whoami', async (request) => ({ principal: request.principal }));
  app.get('/health', { config: { auth: false } }, async (request) => ({ ok: true, principal: request.principal }));
  await app.ready();
  return app;
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
