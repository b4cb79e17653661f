import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerOptions } from 'pino';

export type { LoggerOptions };
import { assertJsonDepth, REQUEST_ID_HEADER } from '@forms/contracts';
import { answerClientError, answerFrameworkError, problemHandler } from './problem-handler';
import { metrics, noMetrics, type MetricsOptions } from './metrics';
import { buildResponseSerializer } from './response-serializer';

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
  /** A connection that neither sends nor takes a byte this long is closed (IDLE_TIMEOUT_SECONDS). */
  idleTimeoutMs?: number;
  /** Prometheus metrics on a port of their own (METRICS_PORT); off when absent. */
  metrics?: MetricsOptions;
}

/** What a service's ServerConfig settings (and HOST) ask of its server; `logger`, when given, replaces the LOG_LEVEL one. */
export function serverOptionsFrom(
  config: { LOG_LEVEL: string; IDLE_TIMEOUT_SECONDS: number; METRICS_PORT?: number | undefined; HOST: string },
  logger?: LoggerOptions | false,
): Pick<ServerOptions, 'logger' | 'idleTimeoutMs' | 'metrics'> {
  return {
    logger: logger ?? { level: config.LOG_LEVEL },
    idleTimeoutMs: config.IDLE_TIMEOUT_SECONDS * 1000,
    ...(config.METRICS_PORT !== undefined && { metrics: { port: config.METRICS_PORT, host: config.HOST } }),
  };
}

/**
 * Node's HTTP server has no idle timeout, and Fastify none by default: a client that stops sending in the
 * middle of a body (an upload, say) held its connection, its upload and a file descriptor for ever, and enough of
 * them would take a service down for everyone. The whole request has no time limit, as an upload of a GiB on a
 * slow line takes long; only silence does. Above Fastify's keep-alive timeout (72 s), so idle keep-alive
 * connections are still ended by that, gracefully.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 90_000;

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
    connectionTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers[REQUEST_ID_HEADER];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    schemaController: { compilersFactory: { buildSerializer: buildResponseSerializer } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Hooks that run on every request take a callback: an async one costs a promise and a microtask each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  refuseDeepJson(app);
  const answeredMidBody = new Set<Socket>();
  discardUnreadBodyOnAnswer(app, answeredMidBody);
  closeKeepAliveAfterShutdownStarts(app, answeredMidBody);
  void app.register(problemHandler);
  if (options.metrics) void app.register(metrics, options.metrics);
  else void app.register(noMetrics);
  return app;
}

/**
 * `close()` ends idle keep-alive connections only once; a connection still busy at that moment (sending its
 * answer, or reading the rest of a refused body) would then idle on until its keep-alive timeout and hold
 * shutdown up. Until the server has closed, connections are ended as soon as they fall idle, and so are those
 * whose request was answered while its body was still coming (see discardUnreadBodyOnAnswer).
 */
function closeKeepAliveAfterShutdownStarts(app: TypedFastify, answeredMidBody: ReadonlySet<Socket>): void {
  let sweeper: NodeJS.Timeout | undefined;
  // Connections that never sent a byte (an HTTP client's spare one, say) are not "idle" to Node, and would
  // hold shutdown up until the headers timeout; with no request on them, dropping them loses nothing.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.addHook('preClose', async () => {
    sweeper = setInterval(() => {
      app.server.closeIdleConnections();
      for (const socket of connections) if (socket.bytesRead === 0 || answeredMidBody.has(socket)) socket.destroy();
    }, 50);
    sweeper.unref();
  });
  app.addHook('onClose', async () => clearInterval(sweeper));
}

/**
 * An answer given before the request body was read to the end (a refused upload, a multipart request
 * refused at its first part): whatever was reading the body stops, and the rest is read and dropped. The
 * client can then finish sending and read the answer, and the connection stays usable; left unread, the
 * body would stall the connection (and hold up shutdown) for as long as the client waits.
 */
const discard = (): void => undefined;

function discardUnreadBodyOnAnswer(app: TypedFastify, answeredMidBody: Set<Socket>): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    const body = request.raw;
    if (!body.complete && !body.destroyed) {
      body.unpipe();
      // A 'data' listener, not only resume(): while a reader still holds the body through a 'readable' listener
      // (an async iterator being given up), resume() does nothing; once that listener goes, Node resumes a
      // body that has 'data' listeners, so the rest is drained however late the reader lets go.
      body.on('data', discard);
      body.resume();
      // A client that stops sending the rest keeps the request open until Node's request timeout (5 minutes):
      // once the answer has gone out, shutdown may drop the connection (it loses nothing).
      const socket = body.socket;
      const settled = () => answeredMidBody.delete(socket);
      reply.raw.once('finish', () => {
        if (!body.complete) answeredMidBody.add(socket);
      });
      body.once('end', settled);
      socket.once('close', settled);
    }
    done(null, payload);
  });
}

/**
 * Fastify's own JSON parser (prototype poisoning refused), after a depth check: deeply nested JSON gets a 400
 * JSON_TOO_DEEP instead of overflowing the stack of whatever walks it later.
 */
function refuseDeepJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      assertJsonDepth(body as string);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}
