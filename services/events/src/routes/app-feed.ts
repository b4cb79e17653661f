import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CloudEvent, Slug } from '@forms/contracts';
import { readAppFeed } from '../domain/pull-feed';
import { requirePrincipal } from './principal';
import { problems } from './schemas';

/** The pull feed: an app's events after a sequence, with the URL of the next page in `next` and `Link`. */
const appFeedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/app/:org/:app',
    {
      schema: {
        tags: ['Pull feed'],
        summary: "An app's events in sequence order, after the sequence you have; follow `next` for more",
        params: Type.Object({ org: Slug, app: Slug }),
        querystring: Type.Object(
          {
            after: Type.Integer({ minimum: 0, default: 0, description: 'the sequence of the last event you have' }),
            type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            subject: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            size: Type.Integer({ minimum: 1, maximum: app.events.maxPageSize, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(CloudEvent), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { org, app: appName } = request.params;
      const { after, type, subject, size } = request.query;
      const page = await readAppFeed(app.events.store, requirePrincipal(request), `${org}/${appName}`, {
        after,
        size,
        ...(type !== undefined && { type }),
        ...(subject !== undefined && { subject }),
      });
      const next = new URLSearchParams({ after: String(page.last), size: String(size), ...(type !== undefined && { type }), ...(subject !== undefined && { subject }) });
      const nextUrl = `${app.events.apiBaseUrl}/app/${org}/${appName}?${next.toString()}`;
      // The next page starts after the last event of this one (or where this one started, when it is empty).
      reply.header('next', nextUrl).header('link', `<${nextUrl}>; rel="next"`);
      return page.events;
    },
  );
};

export default appFeedRoutes;
