import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DataValues, Instance, PresentationTexts, ProcessState, Substatus } from '@forms/contracts';
import { parseReadStatus } from '../domain/instance-query';
import { etagOf, expectedVersion, requirePrincipal } from '../http/headers';
import { INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

const tags = ['Instance state'];
const writeResponses = { 200: Instance, ...problems(400, 401, 403, 404, 409, 412) };

/** Process state, status fields and data values of an instance, and the owner's download confirmation. */
const instanceStateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { instances } = app.storage;

  app.put(
    `${INSTANCE_PATH}/process`,
    { schema: { tags, summary: 'Set the process state', params: InstanceParams, body: ProcessState, response: writeResponses } },
    async (request, reply) => {
      const updated = await instances.updateProcess(requirePrincipal(request), refOf(request.params), request.body, expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.put(
    `${INSTANCE_PATH}/substatus`,
    { schema: { tags, summary: 'Set the substatus (app owner only)', params: InstanceParams, body: Substatus, response: writeResponses } },
    async (request, reply) => {
      const updated = await instances.setSubstatus(requirePrincipal(request), refOf(request.params), request.body, expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.put(
    `${INSTANCE_PATH}/readstatus`,
    {
      schema: {
        tags,
        summary: 'Set the read status',
        params: InstanceParams,
        description: 'status: Unread, Read or UpdatedSinceLastReview, in any letter case (as Altinn).',
        querystring: Type.Object({ status: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: writeResponses,
      },
    },
    async (request, reply) => {
      const status = parseReadStatus(request.query.status);
      const updated = await instances.setReadStatus(requirePrincipal(request), refOf(request.params), status, expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.put(
    `${INSTANCE_PATH}/datavalues`,
    {
      schema: {
        tags,
        summary: 'Set data values (null removes a key)',
        params: InstanceParams,
        body: Type.Object({ values: DataValues }, { additionalProperties: false }),
        response: writeResponses,
      },
    },
    async (request, reply) => {
      const updated = await instances.setDataValues(requirePrincipal(request), refOf(request.params), request.body.values, expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.put(
    `${INSTANCE_PATH}/presentationtexts`,
    {
      schema: {
        tags,
        summary: 'Set presentation texts (app or org; null or empty removes a key)',
        params: InstanceParams,
        body: Type.Object({ texts: PresentationTexts }, { additionalProperties: false }),
        response: writeResponses,
      },
    },
    async (request, reply) => {
      const updated = await instances.setPresentationTexts(requirePrincipal(request), refOf(request.params), request.body.texts, expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.post(
    `${INSTANCE_PATH}/complete`,
    {
      schema: {
        tags,
        summary: 'Confirm the download (app owner only)',
        description: 'Adds the calling org to completeConfirmations; idempotent. Queries with excludeConfirmedBy=<org> then leave the instance out.',
        params: InstanceParams,
        response: writeResponses,
      },
    },
    async (request, reply) => {
      const updated = await instances.confirmComplete(requirePrincipal(request), refOf(request.params), expectedVersion(request));
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );
};

export default instanceStateRoutes;
