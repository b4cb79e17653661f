import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDomainError, REQUEST_ID_HEADER, STATUS_BY_KIND, type ProblemDetails } from '@forms/contracts';
import { isMalformedMultipart } from './multipart';

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Fastify's own error codes that describe bad input, with the stable codes we expose for them. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
};

export function problem(status: number, code: string, detail?: string, extensions?: Record<string, unknown>): ProblemDetails {
  return {
    type: `about:blank`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...extensions,
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url, requestId: String(request.id) });
}

function toProblem(error: FastifyError & { code?: string }): ProblemDetails {
  if (isDomainError(error)) {
    return problem(STATUS_BY_KIND[error.kind], error.code, error.message, error.extensions);
  }
  if (error.validation) {
    return problem(400, 'VALIDATION_FAILED', error.message, {
      errors: error.validation.map((v) => ({ path: v.instancePath, message: v.message, params: v.params })),
    });
  }
  if (isMalformedMultipart(error)) {
    return problem(400, 'MALFORMED_MULTIPART', `The multipart body is malformed: ${error.message}.`);
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  if (status >= 500 && !error.code?.startsWith('FST_') && status !== 503 && status !== 504) {
    // Unexpected failures: never leak internals to the caller.
    return problem(500, 'INTERNAL_ERROR', 'An unexpected error occurred. Quote the requestId when reporting it.');
  }
  const code = (error.code && FASTIFY_CODES[error.code]) ?? (error.code && !error.code.startsWith('FST_') ? error.code : undefined);
  return problem(status, code ?? `HTTP_${status}`, error.message);
}

interface EarlyError {
  status: number;
  code: string;
  detail: string;
}

/** By the code of Node's error; anything else it refuses is not HTTP. */
const CLIENT_ERRORS: Record<string, EarlyError> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', detail: 'The request was not received in time.' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE', detail: 'The request headers exceed the size limit.' },
};
const NOT_HTTP: EarlyError = { status: 400, code: 'MALFORMED_REQUEST', detail: 'The request is not valid HTTP/1.1.' };

/** By the code of Fastify's error. */
const ROUTER_ERRORS: Record<string, EarlyError> = {
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG', detail: 'A segment of the path is too long.' },
  FST_ERR_BAD_URL: { status: 400, code: 'MALFORMED_URL', detail: 'The path is not valid percent-encoding.' },
};
const UNROUTABLE: EarlyError = { status: 400, code: 'BAD_REQUEST', detail: 'The request cannot be routed.' };

/**
 * What Node's HTTP parser refuses before there is a request to route (not HTTP, headers over its limit, a request
 * not received within the request timeout), answered as problem details like every other error instead of
 * Fastify's own JSON. Fastify's `clientErrorHandler`; the connection is closed after the answer, as Node does.
 */
export function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, detail } = CLIENT_ERRORS[error.code ?? ''] ?? NOT_HTTP;
  this.log.debug({ err: error }, 'client error');
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * What Fastify's router refuses before a route runs, and so before the error handler (a URL that is not valid
 * percent-encoding, a path parameter past `maxParamLength`): problem details too, where Fastify would answer its own
 * JSON with the URL echoed back in it. Fastify's `frameworkErrors`.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, detail } = ROUTER_ERRORS[error.code] ?? UNROUTABLE;
  request.log.info({ code, detail }, 'request rejected');
  // Without `instance`: the URL is what is wrong (and may be long), so it is not sent back.
  void reply
    .code(status)
    .header(REQUEST_ID_HEADER, request.id)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem(status, code, detail), requestId: String(request.id) });
}

/** Renders every error, and unknown routes, as RFC 7807 problem details with a stable `code`. */
export const problemHandler = fp(
  async function problemHandler(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const body = toProblem(error);
      if (body.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: body.code, detail: body.detail }, 'request rejected');
      const headers = (error as { headers?: Record<string, string> }).headers;
      if (headers) reply.headers(headers);
      return sendProblem(request, reply, body);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, problem(404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'problem-handler' },
);
