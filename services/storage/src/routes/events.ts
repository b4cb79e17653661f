import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { InstanceEventList, InstanceEventTypeSchema } from '@forms/contracts';
import { parseTimeRange } from '../domain/instance-query';
import { requirePrincipal } from '../http/headers';
import { INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

/** The audit log of an instance. */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    `${INSTANCE_PATH}/events`,
    {
      schema: {
        tags: ['Instance events'],
        summary: 'List the events of an instance',
        params: InstanceParams,
        querystring: Type.Object(
          {
            eventTypes: Type.Optional(Type.Array(InstanceEventTypeSchema, { maxItems: 20 })),
            from: Type.Optional(Type.String({ maxLength: 64 })),
            to: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: InstanceEventList, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { eventTypes, from, to } = request.query;
      const instanceEvents = await app.storage.instances.listEvents(requirePrincipal(request), refOf(request.params), {
        ...(eventTypes && { eventTypes }),
        ...(from && { from: parseTimeRange('from', [from]).eq }),
        ...(to && { to: parseTimeRange('to', [to]).eq }),
      });
      return { instanceEvents };
    },
  );
};

export default eventRoutes;
