import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DataElement } from '@forms/contracts';
import type { ContentInput } from '../domain/data-service';
import { StorageErrors } from '../domain/errors';
import {
  downloadHeaders,
  declaredLength,
  etagOf,
  expectedVersion,
  filenameFrom,
  requestedRange,
  requirePrincipal,
} from '../http/headers';
import { DataParams, INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';
import type { FastifyRequest } from 'fastify';

const tags = ['Data'];
const binaryBody = { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } };

function contentInput(request: FastifyRequest): ContentInput {
  const contentType = request.headers['content-type'];
  if (!contentType) throw StorageErrors.invalid('CONTENT_TYPE_REQUIRED', 'Send the content type of the data in Content-Type.');
  const filename = filenameFrom(request);
  const length = declaredLength(request);
  return {
    contentType,
    body: request.body as Readable,
    ...(filename !== undefined && { filename }),
    ...(length !== undefined && { declaredLength: length }),
  };
}

/**
 * Data element content, streamed in both directions. Bodies here are never parsed or buffered: every
 * content type is handed to the route as the raw request stream.
 */
const dataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { data, elements } = app.storage;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // An upload refused before its end is answered at once; node then discards the rest of the body
  // (bounded by the server's request timeout) instead of closing the socket, so clients that are still
  // sending get to read the 413 rather than a broken pipe.

  app.post(
    `${INSTANCE_PATH}/data`,
    {
      schema: {
        tags,
        summary: 'Upload a data element (streamed)',
        description: 'The body is the content; its Content-Type must be allowed by the data type, and the filename comes from Content-Disposition.',
        params: InstanceParams,
        querystring: Type.Object({ dataType: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 201: DataElement, ...problems(400, 401, 403, 404, 409, 413, 415, 503, 507) },
      },
    },
    async (request, reply) => {
      const element = await data.create(requirePrincipal(request), refOf(request.params), request.query.dataType, contentInput(request));
      reply.code(201).header('location', element.selfLinks?.platform).header('etag', etagOf(element.version));
      return element;
    },
  );

  app.put(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Replace the content of a data element (streamed)',
        params: DataParams,
        response: { 200: DataElement, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 503, 507) },
      },
    },
    async (request, reply) => {
      const element = await data.replace(
        requirePrincipal(request),
        refOf(request.params),
        request.params.dataGuid.toLowerCase(),
        contentInput(request),
        expectedVersion(request),
      );
      reply.header('etag', etagOf(element.version));
      return element;
    },
  );

  app.get(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Download the content of a data element (supports Range)',
        params: DataParams,
        response: { 200: { description: 'The content', ...binaryBody }, 206: { description: 'Part of the content', ...binaryBody }, ...problems(401, 403, 404, 409, 416, 500) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { element, role } = await data.metadataWithRole(principal, refOf(request.params), request.params.dataGuid.toLowerCase());
      const range = requestedRange(request, reply, element.size);
      const blob = await data.openContent(principal, element, range, (damaged, reason) =>
        request.log.error({ dataElementId: damaged.id, blobStoragePath: damaged.blobStoragePath, reason }, 'stored content is damaged'),
      );
      reply.headers(downloadHeaders(element.filename));
      reply.header('etag', etagOf(element.version)).header('accept-ranges', 'bytes').type(element.contentType);
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.totalSize}`);
        reply.header('content-length', range.end - range.start + 1);
      } else {
        reply.header('content-length', blob.totalSize);
      }
      // The owner reading what the org added: the element is read from now on.
      if (!element.isRead && role !== 'org') {
        await elements.markRead(element).catch((err: unknown) => request.log.warn({ err, dataElementId: element.id }, 'could not mark the element read'));
      }
      return reply.send(blob.body);
    },
  );

  app.delete(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Delete a data element',
        description: 'Answers with the deleted element, as Altinn does.',
        params: DataParams,
        response: { 200: DataElement, ...problems(401, 403, 404, 409, 412) },
      },
    },
    async (request) => data.remove(requirePrincipal(request), refOf(request.params), request.params.dataGuid.toLowerCase(), expectedVersion(request)),
  );

  for (const [method, locked] of [['PUT', true], ['DELETE', false]] as const) {
    app.route({
      method,
      url: `${INSTANCE_PATH}/data/:dataGuid/lock`,
      schema: {
        tags,
        summary: locked ? 'Lock a data element (app or org)' : 'Unlock a data element (app or org)',
        params: DataParams,
        response: { 200: DataElement, ...problems(401, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        const params = request.params as { instanceOwnerPartyId: string; instanceGuid: string; dataGuid: string };
        const element = await elements.setLock(requirePrincipal(request), refOf(params), params.dataGuid.toLowerCase(), locked);
        reply.header('etag', etagOf(element.version));
        return element;
      },
    });
  }
};

export default dataRoutes;
