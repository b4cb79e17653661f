import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerOptions } from 'pino';

export type { LoggerOptions };
import { problemHandler } from './problem-handler';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route is public (no bearer token needed). */
    auth?: boolean;
  }
}

export type TypedFastify = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ServerOptions {
  /** Service name, logged with every line. */
  name: string;
  logger?: LoggerOptions | false;
  /** Largest JSON/XML body accepted, in bytes (streamed uploads have their own limits). */
  bodyLimit?: number;
  trustProxy?: boolean;
  /** Further log paths to censor (pino redact syntax), on top of the credentials every service hides. */
  redact?: string[];
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * A Fastify instance with the conventions every service shares: TypeBox schemas, request ids taken from
 * `X-Request-Id` (or generated) and echoed back, pino logs that never contain credentials,
 * and RFC 7807 problem details for every error.
 */
export function createServer(options: ServerOptions): TypedFastify {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: 'info',
            ...options.logger,
            base: { service: options.name },
            redact: [
              'req.headers.authorization',
              'req.headers.cookie',
              'req.body.client_secret',
              'req.body.password',
              ...(options.redact ?? []),
            ],
          },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  closeKeepAliveAfterShutdownStarts(app);
  void app.register(problemHandler);
  return app;
}

/**
 * `close()` ends idle keep-alive connections only once; a connection still answering a request at that
 * moment would then idle on until its keep-alive timeout and hold shutdown up. Once closing has begun,
 * each connection is ended as soon as its response is out.
 */
function closeKeepAliveAfterShutdownStarts(app: TypedFastify): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onResponse', async (request) => {
    if (closing) request.raw.socket?.end();
  });
}
