import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import multipart from '@fastify/multipart';
import { AppId, Instance, InstanceCreation, InstanceQueryResponse, PartyId, Slug } from '@forms/contracts';
import { buildInstanceQuery, queryInstances } from '../domain/instance-query';
import { inlineCreation } from '../http/initial-data';
import { readMultipartCreation } from '../http/multipart-creation';
import { etagOf, expectedVersion, requirePrincipal } from '../http/headers';
import { INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

const tags = ['Instances'];
const TimeFilter = Type.Array(Type.String({ maxLength: 64, description: '[gt|gte|lt|lte|eq:]<ISO-8601 timestamp>' }), { maxItems: 4 });

const QueryParams = Type.Object(
  {
    appId: Type.Optional(AppId),
    org: Type.Optional(Slug),
    'instanceOwner.partyId': Type.Optional(PartyId),
    'instanceOwner.partyIds': Type.Optional(Type.Array(PartyId, { maxItems: 100, description: 'Several owners (repeat the parameter)' })),
    'process.currentTask': Type.Optional(Type.String({ maxLength: 128 })),
    'process.isComplete': Type.Optional(Type.Boolean()),
    'process.endEvent': Type.Optional(Type.String({ maxLength: 128 })),
    'process.ended': Type.Optional(TimeFilter),
    lastChanged: Type.Optional(TimeFilter),
    created: Type.Optional(TimeFilter),
    dueBefore: Type.Optional(TimeFilter),
    visibleAfter: Type.Optional(TimeFilter),
    'status.isArchived': Type.Optional(Type.Boolean()),
    'status.isSoftDeleted': Type.Optional(Type.Boolean()),
    'status.isHardDeleted': Type.Optional(Type.Boolean({ description: 'Hard-deleted instances wait for the cleanup job; only their org sees them' })),
    excludeConfirmedBy: Type.Optional(Slug),
    confirmed: Type.Optional(Type.Boolean({ description: "Whether the app owner (the caller's org, or the org asked for) has confirmed the download" })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    continuationToken: Type.Optional(Type.String({ maxLength: 512 })),
    order: Type.Optional(Type.String({ maxLength: 32, description: '`desc:lastChanged` (default: newest change first) or `asc:lastChanged`' })),
  },
  { additionalProperties: false },
);

/** Query parameter names are matched without regard to case, as ASP.NET does for Altinn: `Process.IsComplete` works. */
const CANONICAL_NAMES = new Map(Object.keys(QueryParams.properties).map((name) => [name.toLowerCase(), name]));

function canonicalQuery(query: Record<string, unknown>): Record<string, unknown> {
  const canonical: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    const key = CANONICAL_NAMES.get(name.toLowerCase()) ?? name;
    const earlier = canonical[key];
    canonical[key] = earlier === undefined ? value : [earlier, value].flat();
  }
  return canonical;
}

/** Creating, reading, deleting and querying instances. */
const instanceRoutes: FastifyPluginAsyncTypebox<{ defaultPageSize: number; maxPageBytes: number; maxDataElementBytes: number }> = async (app, options) => {
  const { instances, creation, context } = app.storage;
  await app.register(multipart, { throwFileSizeLimit: true });

  app.post(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Create an instance of an app, with its initial data',
        description:
          'JSON (the instance, with its initial data inline in `data`, base64-encoded: for small content already in memory), or multipart/form-data: ' +
          "an 'instance' part (JSON) and then one part per data element, named by its data type, streamed. Either way the instance and its data are stored together or not at all. " +
          'With `instanceGuid` a repeated request answers 200 with the instance the first one created.',
        querystring: Type.Object({ appId: AppId }, { additionalProperties: false }),
        // A multipart body is read part by part; its instance part is checked against InstanceCreate then (the
        // instance alone: its data are the parts that follow).
        body: { content: { 'application/json': { schema: InstanceCreation } } },
        response: { 200: Instance, 201: Instance, ...problems(400, 401, 403, 404, 409, 413, 415, 507) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { input, parts } = request.isMultipart()
        ? await readMultipartCreation(request, options.maxDataElementBytes)
        : inlineCreation(request.body as InstanceCreation);
      const { instance, created } = await creation.create(principal, request.query.appId, input, parts);
      reply.code(created ? 201 : 200).header('location', instance.selfLinks.platform).header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.get(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Query instances, one page at a time',
        description:
          'Parameter names are matched in any letter case; times may have reduced precision (`gt:2019-02`). Pages are ordered by the last change of each instance, in the order the changes committed (one order across all storage replicas): ' +
          'newest first by default (`order=desc:lastChanged`, as Altinn), oldest first with `order=asc:lastChanged`. Follow `next` (or pass `continuationToken`, an opaque token) until it is null; ' +
          'an ascending walk returns every matching instance, also while new instances are created; a descending one each at most once.',
        querystring: QueryParams,
        response: { 200: InstanceQueryResponse, ...problems(400, 401, 403) },
      },
      preValidation: async (request) => {
        request.query = canonicalQuery(request.query as Record<string, unknown>) as typeof request.query;
      },
    },
    async (request) => {
      const query = buildInstanceQuery(requirePrincipal(request), request.query, options.defaultPageSize);
      const page = await queryInstances(context.store, query, options.maxPageBytes);
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
      reply.header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.delete(
    INSTANCE_PATH,
    {
      schema: {
        tags,
        summary: 'Delete an instance',
        description:
          'Soft delete by default (the instance is hidden from queries but kept). `hard=true` (the org; the app before the process ends) ' +
          'marks it hard-deleted: hidden from everyone but its org, removed with its data by the cleanup job after the retention period.',
        params: InstanceParams,
        querystring: Type.Object({ hard: Type.Boolean({ default: false }) }, { additionalProperties: false }),
        response: { 200: Instance, ...problems(401, 403, 404, 412) },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const ref = refOf(request.params);
      const deleted = request.query.hard
        ? await instances.hardDelete(principal, ref, expectedVersion(request))
        : await instances.softDelete(principal, ref, expectedVersion(request));
      reply.header('etag', etagOf(deleted.version));
      return deleted;
    },
  );

  app.put(
    `/sbl${INSTANCE_PATH}/undelete`,
    {
      schema: {
        tags,
        summary: 'Restore a soft-deleted instance (its owner)',
        description: "Altinn's undelete: answers `true` once the instance is restored. A hard-deleted instance cannot be restored.",
        params: InstanceParams,
        response: { 200: Type.Boolean(), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      await instances.restore(requirePrincipal(request), refOf(request.params));
      return true;
    },
  );
};

export default instanceRoutes;
