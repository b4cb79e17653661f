import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
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
      return reply.code(201).header('etag', etagOf(created.version)).send(created);
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
      return reply.header('etag', etagOf(updated.version)).send(updated);
    },
  );

  app.get(
    '/applications/:org/:app',
    { schema: { tags, summary: 'Get an app', params: AppParams, response: { 200: Application, ...problems(401, 404) } } },
    async (request, reply) => {
      requirePrincipal(request);
      const found = await applications.get(request.params.org, request.params.app);
      return reply.header('etag', etagOf(found.version)).send(found);
    },
  );

  app.get(
    '/applications/:org',
    { schema: { tags, summary: "List an org's apps", params: OrgParams, response: { 200: ApplicationList, ...problems(401) } } },
    async (request) => {
      requirePrincipal(request);
      return { applications: await applications.list(request.params.org) };
    },
  );
};

export default applicationRoutes;
