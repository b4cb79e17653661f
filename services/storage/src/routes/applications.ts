import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Application, ApplicationInput, ApplicationList } from '@forms/contracts';
import { etagOf, expectedVersion, requirePrincipal } from '../http/headers';
import { AppParams, OrgParams, problems } from './schemas';

const tags = ['Applications'];

/** The application register: app metadata, including the data type rules storage enforces. */
const applicationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { applications } = app.storage;

  app.post(
    '/applications/:org/:app',
    { schema: { tags, summary: 'Register an app', params: AppParams, body: ApplicationInput, response: { 201: Application, ...problems(400, 401, 403, 409) } } },
    async (request, reply) => {
      const created = await applications.register(requirePrincipal(request), request.params.org, request.params.app, request.body);
      reply.code(201).header('etag', etagOf(created.version));
      return created;
    },
  );

  app.put(
    '/applications/:org/:app',
    { schema: { tags, summary: 'Update an app', params: AppParams, body: ApplicationInput, response: { 200: Application, ...problems(400, 401, 403, 404, 412) } } },
    async (request, reply) => {
      const updated = await applications.update(
        requirePrincipal(request),
        request.params.org,
        request.params.app,
        request.body,
        expectedVersion(request),
      );
      reply.header('etag', etagOf(updated.version));
      return updated;
    },
  );

  app.delete(
    '/applications/:org/:app',
    {
      schema: {
        tags,
        summary: 'Delete an app',
        description: 'Retires the app (validTo now: no new instances); `hard=true` removes its record, only while it has no instances.',
        params: AppParams,
        querystring: Type.Object({ hard: Type.Boolean({ default: false }) }, { additionalProperties: false }),
        response: { 200: Application, ...problems(401, 403, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const { org, app: name } = request.params;
      const removed = await applications.remove(requirePrincipal(request), org, name, request.query.hard, expectedVersion(request));
      reply.header('etag', etagOf(removed.version));
      return removed;
    },
  );

  // App metadata is public, as in Altinn: clients read data types and rules before they have a token.
  app.get(
    '/applications',
    { config: { auth: false }, schema: { tags, summary: 'List every app (anonymous)', response: { 200: ApplicationList } } },
    async () => ({ applications: await applications.listAll() }),
  );

  app.get(
    '/applications/:org/:app',
    { config: { auth: false }, schema: { tags, summary: 'Get an app (anonymous)', params: AppParams, response: { 200: Application, ...problems(404) } } },
    async (request, reply) => {
      const found = await applications.get(request.params.org, request.params.app);
      reply.header('etag', etagOf(found.version));
      return found;
    },
  );

  app.get(
    '/applications/:org',
    { config: { auth: false }, schema: { tags, summary: "List an org's apps (anonymous)", params: OrgParams, response: { 200: ApplicationList } } },
    async (request) => {
      return { applications: await applications.list(request.params.org) };
    },
  );
};

export default applicationRoutes;
