import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { InstanceEvent } from '@forms/contracts';
import { readFeed, requireFeedReader } from '../domain/event-feed';
import { requirePrincipal } from '../http/headers';
import { problems } from './schemas';

const FeedEvent = Type.Composite([InstanceEvent, Type.Object({ sequence: Type.Integer(), appId: Type.String() })], { title: 'FeedEvent' });

/** The change feed the events service relays (ADR 0014): for its own token only. */
const feedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/feed',
    {
      schema: {
        tags: ['Change feed'],
        summary: 'Audit events of committed writes after a sequence, in commit order, whole writes only (the events service only)',
        querystring: Type.Object(
          {
            after: Type.Integer({ minimum: 0, default: 0 }),
            size: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ events: Type.Array(FeedEvent), position: Type.Integer() }), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      requireFeedReader(requirePrincipal(request));
      return readFeed(app.storage.context.store.events, request.query.after, request.query.size);
    },
  );
};

export default feedRoutes;
