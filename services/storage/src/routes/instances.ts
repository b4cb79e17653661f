import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import multipart from '@fastify/multipart';
import { AppId, Instance, InstanceCreate, InstanceQueryResponse, PartyId, Slug } from '@forms/contracts';
import { buildInstanceQuery, queryInstances } from '../domain/instance-query';
import { readMultipartCreation } from '../http/multipart-creation';
import { etagOf, expectedVersion, requirePrincipal, sendNoContent } from '../http/headers';
import { INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

const tags = ['Instances'];
const TimeFilter = Type.Array(Type.String({ maxLength: 64, description: '[gt|gte|lt|lte|eq:]<ISO-8601 timestamp>' }), { maxItems: 4 });

const QueryParams = Type.Object(
  {
    appId: Type.Optional(AppId),
    org: Type.Optional(Slug),
    'instanceOwner.partyId': Type.Optional(PartyId),
    'process.currentTask': Type.Optional(Type.String({ maxLength: 128 })),
    'process.isComplete': Type.Optional(Type.Boolean()),
    'process.endEvent': Type.Optional(Type.String({ maxLength: 128 })),
    lastChanged: Type.Optional(TimeFilter),
    created: Type.Optional(TimeFilter),
    dueBefore: Type.Optional(TimeFilter),
    visibleAfter: Type.Optional(TimeFilter),
    'status.isArchived': Type.Optional(Type.Boolean()),
    'status.isSoftDeleted': Type.Optional(Type.Boolean()),
    excludeConfirmedBy: Type.Optional(Slug),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    continuationToken: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/** Creating, reading, deleting and querying instances. */
const instanceRoutes: FastifyPluginAsyncTypebox<{ defaultPageSize: number; maxDataElementBytes: number }> = async (app, options) => {
  const { instances, creation, context } = app.storage;
  await app.register(multipart, { throwFileSizeLimit: true });

  app.post(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Create an instance of an app, with its initial data',
        description:
          "JSON (the instance), or multipart/form-data: an 'instance' part (JSON) and then one part per data element, named by its data type, all stored together or not at all. " +
          'With `instanceGuid` a repeated request answers 200 with the instance the first one created.',
        querystring: Type.Object({ appId: AppId }, { additionalProperties: false }),
        // A multipart body is read part by part; its instance part is checked against the same schema then.
        body: { content: { 'application/json': { schema: InstanceCreate } } },
        response: { 200: Instance, 201: Instance, ...problems(400, 401, 403, 404, 409, 413, 415, 507) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      let result;
      if (request.isMultipart()) {
        const { input, parts } = await readMultipartCreation(request, options.maxDataElementBytes);
        result = await creation.create(principal, request.query.appId, input, parts);
      } else {
        result = await creation.create(principal, request.query.appId, request.body as InstanceCreate);
      }
      const { instance, created } = result;
      return reply
        .code(created ? 201 : 200)
        .header('location', instance.selfLinks.platform)
        .header('etag', etagOf(instance.version))
        .send(instance);
    },
  );

  app.get(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Query instances, one page at a time',
        description:
          'Pages are ordered by the last change of each instance, in the order the changes committed (one order across all storage replicas). Follow `next` (or pass `continuationToken`, an opaque token) until it is null; a full walk returns every matching instance exactly once, also while new instances are created.',
        querystring: QueryParams,
        response: { 200: InstanceQueryResponse, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const query = buildInstanceQuery(requirePrincipal(request), request.query, options.defaultPageSize);
      const page = await queryInstances(context.store, query);
      const queryStart = request.url.indexOf('?');
      const self = new URL(`${context.apiBaseUrl}/instances${queryStart >= 0 ? request.url.slice(queryStart) : ''}`);
      let next: string | null = null;
      if (page.continuationToken) {
        const nextUrl = new URL(self);
        nextUrl.searchParams.set('continuationToken', page.continuationToken);
        next = nextUrl.toString();
      }
      return { count: page.instances.length, self: self.toString(), next, instances: page.instances };
    },
  );

  app.get(
    INSTANCE_PATH,
    { schema: { tags, summary: 'Get an instance', params: InstanceParams, response: { 200: Instance, ...problems(401, 403, 404) } } },
    async (request, reply) => {
      const instance = await instances.get(requirePrincipal(request), refOf(request.params));
      return reply.header('etag', etagOf(instance.version)).send(instance);
    },
  );

  app.delete(
    INSTANCE_PATH,
    {
      schema: {
        tags,
        summary: 'Delete an instance',
        description: 'Soft delete by default (the instance is hidden from queries but kept); `hard=true` removes it and its data for good.',
        params: InstanceParams,
        querystring: Type.Object({ hard: Type.Boolean({ default: false }) }, { additionalProperties: false }),
        response: { 200: Instance, 204: Type.Null(), ...problems(401, 403, 404, 412) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      if (request.query.hard) {
        await instances.hardDelete(principal, refOf(request.params), expectedVersion(request));
        return sendNoContent(reply);
      }
      const deleted = await instances.softDelete(principal, refOf(request.params), expectedVersion(request));
      return reply.header('etag', etagOf(deleted.version)).send(deleted);
    },
  );
};

export default instanceRoutes;
