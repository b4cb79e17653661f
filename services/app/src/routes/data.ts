import type { Readable } from 'node:stream';
import { attachmentDisposition, filenameFromContentDisposition, InvalidContentDisposition } from '@forms/content-check';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { serializeFormData } from '@forms/app-definition';
import { DataElement, DomainError } from '@forms/contracts';
import { etagOf, expectedVersion } from '@forms/service-kit';
import { loadInstance } from '../domain/app-context';
import { addAttachment } from '../domain/attachments';
import { deleteDataElement, findElement } from '../domain/data-access';
import {
  createFormData,
  formatOf,
  readFormData,
  readText,
  replaceFormData,
  type FormDataResult,
  type FormFormat,
} from '../domain/form-data';
import { callerOf, contentLengthOf, instanceIdOf } from '../http/request';
import { CalculationResult, DataParams, INSTANCE_PATH, InstanceParams, problems } from './schemas';

const tags = ['Data'];
const anyBody = { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } };

function acceptedFormat(request: FastifyRequest): FormFormat {
  return /\b(application|text)\/xml\b/.test(request.headers.accept ?? '') ? 'xml' : 'json';
}

/** Altinn's CalculationResult: the data element with the fields the calculation changed. */
function calculationResult(reply: { header: (k: string, v: string) => unknown }, result: FormDataResult) {
  reply.header('etag', etagOf(result.dataElement.version));
  return { ...result.dataElement, changedFields: result.changedFields };
}

/**
 * Form data (JSON or XML, checked against the data model, calculated by the app's rules) and attachments
 * (streamed through to storage). Bodies reach the routes unparsed, so each kind is read the right way.
 */
const dataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const body = (request: FastifyRequest) => request.body as Readable;

  app.post(
    `${INSTANCE_PATH}/data`,
    {
      schema: {
        tags,
        summary: 'Add form data (JSON or XML) or an attachment (streamed)',
        params: InstanceParams,
        querystring: Type.Object({ dataType: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 201: DataElement, ...problems(400, 401, 403, 404, 409, 413, 415, 503, 504) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const instanceId = instanceIdOf(request.params);
      const { dataType } = request.query;
      const contentType = request.headers['content-type'];
      if (request.appContext.definition.models.has(dataType)) {
        // The format is known from the header: an unreadable one is refused before the body is read.
        const format = formatOf(contentType);
        const result = await createFormData(request.appContext, caller, instanceId, dataType, await readText(body(request), request.appContext.maxFormDataBytes), format);
        reply.code(201).header('etag', etagOf(result.dataElement.version));
        return result.dataElement;
      }
      if (!contentType) throw new DomainError('invalid', 'CONTENT_TYPE_REQUIRED', 'Send the content type of the attachment in Content-Type.');
      const filename = filenameOf(request.headers['content-disposition']);
      const length = contentLengthOf(request);
      const element = await addAttachment(request.appContext, caller, instanceId, dataType, {
        contentType,
        body: body(request),
        ...(filename && { filename }),
        ...(length !== undefined && { contentLength: length }),
      });
      reply.code(201).header('etag', etagOf(element.version));
      return element;
    },
  );

  app.get(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Read form data (JSON or XML by Accept) or download an attachment',
        params: DataParams,
        response: { 200: { description: 'The data', ...anyBody }, ...problems(401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const instanceId = instanceIdOf(request.params);
      const dataId = request.params.dataGuid.toLowerCase();
      const { instance } = await loadInstance(request.appContext, caller, instanceId);
      const element = findElement(instance, dataId);
      if (request.appContext.definition.models.has(element.dataType)) {
        const { data, model } = await readFormData(request.appContext, caller, instance, element);
        const format = acceptedFormat(request);
        return reply
          .header('etag', etagOf(element.version))
          .type(format === 'xml' ? 'application/xml; charset=utf-8' : 'application/json; charset=utf-8')
          .send(serializeFormData(data, format, model));
      }
      const download = await request.appContext.storage.downloadData(caller.token, instanceId, dataId);
      // Never rendered inline on the app's origin, never sniffed into another type.
      reply.header('content-disposition', attachmentDisposition(download.filename)).header('x-content-type-options', 'nosniff');
      return reply.header('etag', etagOf(download.version)).header('content-length', download.size).type(download.contentType).send(download.body);
    },
  );

  app.put(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: "Replace form data; answers the data element and the fields the app's calculation changed (CalculationResult)",
        params: DataParams,
        response: { 200: CalculationResult, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 503, 504) },
      },
    },
    async (request, reply) => {
      const format = formatOf(request.headers['content-type']);
      const result = await replaceFormData(
        request.appContext,
        callerOf(request),
        instanceIdOf(request.params),
        request.params.dataGuid.toLowerCase(),
        await readText(body(request), request.appContext.maxFormDataBytes),
        format,
        expectedVersion(request),
      );
      return calculationResult(reply, result);
    },
  );

  app.delete(
    `${INSTANCE_PATH}/data/:dataGuid`,
    { schema: { tags, summary: 'Delete a data element', params: DataParams, response: { 204: Type.Null(), ...problems(401, 403, 404, 409, 412) } } },
    async (request, reply) => {
      await deleteDataElement(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase(), expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
};

/** Filename from a Content-Disposition header (UTF-8 decoded, control and bidi characters dropped), forwarded to storage. */
function filenameOf(header: string | undefined): string | undefined {
  try {
    return filenameFromContentDisposition(header);
  } catch (error) {
    if (error instanceof InvalidContentDisposition) throw new DomainError('invalid', 'INVALID_CONTENT_DISPOSITION', error.message);
    throw error;
  }
}

export default dataRoutes;
