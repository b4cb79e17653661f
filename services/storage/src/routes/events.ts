import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Guid, InstanceEvent, InstanceEventInput, InstanceEventList, InstanceEventTypeSchema, ProcessHistoryList } from '@forms/contracts';
import { parseTimeRange } from '../domain/instance-query';
import { requirePrincipal } from '../http/headers';
import { INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

const tags = ['Instance events'];

/**
 * `{"instanceEvents": [...]}` written a page at a time as the client reads it: an audit log grows with every write
 * of its instance, and is never held whole in memory.
 */
async function* instanceEventListJson(first: InstanceEvent[], rest: AsyncIterable<InstanceEvent[]>): AsyncGenerator<string> {
  const json = (page: InstanceEvent[]) => page.map((event) => JSON.stringify(event)).join(',');
  yield `{"instanceEvents":[${json(first)}`;
  for await (const page of rest) yield `,${json(page)}`;
  yield ']}';
}

/** The audit log of an instance, and the process history made from it. */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { audit } = app.storage;

  app.post(
    `${INSTANCE_PATH}/events`,
    {
      schema: {
        tags,
        summary: 'Record an event of the app (app only)',
        description: "Altinn's POST instanceevents: the app records an event of its own, e.g. `Signed`. Storage sets id, instanceId, owner, user and time.",
        params: InstanceParams,
        body: InstanceEventInput,
        response: { 201: InstanceEvent, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const event = await audit.record(requirePrincipal(request), refOf(request.params), request.body);
      const location = `${app.storage.context.apiBaseUrl}/instances/${event.instanceId}/events/${event.id}`;
      reply.code(201).header('location', location);
      return event;
    },
  );

  app.get(
    `${INSTANCE_PATH}/events/:eventGuid`,
    {
      schema: {
        tags,
        summary: 'Get one event of an instance',
        params: Type.Object({ ...InstanceParams.properties, eventGuid: Guid }),
        response: { 200: InstanceEvent, ...problems(401, 403, 404) },
      },
    },
    async (request) => audit.get(requirePrincipal(request), refOf(request.params), request.params.eventGuid),
  );

  app.get(
    `${INSTANCE_PATH}/process/history`,
    {
      schema: {
        tags,
        summary: 'The process history of an instance',
        description: "Altinn's ProcessHistoryList: one item per process event, oldest first.",
        params: InstanceParams,
        response: { 200: ProcessHistoryList, ...problems(401, 403, 404) },
      },
    },
    async (request) => ({ processHistory: await audit.processHistory(requirePrincipal(request), refOf(request.params)) }),
  );

  app.get(
    `${INSTANCE_PATH}/events`,
    {
      schema: {
        tags,
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
    async (request, reply) => {
      const { eventTypes, from, to } = request.query;
      const pages = await app.storage.instances.listEvents(requirePrincipal(request), refOf(request.params), {
        ...(eventTypes && { eventTypes }),
        ...(from && { from: parseTimeRange('from', [from]).eq }),
        ...(to && { to: parseTimeRange('to', [to]).eq }),
      });
      // The first page is read before answering, so that a failing store is still a problem+json answer.
      const first = await pages.next();
      const body = Readable.from(instanceEventListJson(first.done ? [] : first.value, pages));
      // The documented InstanceEventList, as a stream: Fastify sends a stream as it is, past the response serializer.
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
};

export default eventRoutes;
