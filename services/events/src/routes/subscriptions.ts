import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { CreatedEventSubscription, EventDeadLetter, EventSubscription, SubscriptionRequest } from '@forms/contracts';
import { publicView } from '../domain/subscription';
import { requirePrincipal } from './principal';
import { problems, SubscriptionParams } from './schemas';

/** Subscriptions (Altinn's fields) and their dead letters. */
const subscriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = () => app.events.subscriptions;
  const tags = ['Subscriptions'];

  app.post(
    '/subscriptions',
    {
      schema: {
        tags,
        summary: 'Subscribe an endpoint; it gets a validation event first and is active once it answers 2xx',
        body: SubscriptionRequest,
        response: { 201: CreatedEventSubscription, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const subscription = await service().create(requirePrincipal(request), request.body);
      reply.code(201).header('location', `${app.events.subscriptionUrl(subscription.id)}`);
      return { ...publicView(subscription), secret: subscription.secret };
    },
  );

  app.get(
    '/subscriptions',
    { schema: { tags, summary: 'Your subscriptions', response: { 200: Type.Object({ count: Type.Integer(), subscriptions: Type.Array(EventSubscription) }), ...problems(401) } } },
    async (request) => {
      const subscriptions = (await service().list(requirePrincipal(request))).map(publicView);
      return { count: subscriptions.length, subscriptions };
    },
  );

  app.get(
    '/subscriptions/:id',
    { schema: { tags, summary: 'One of your subscriptions', params: SubscriptionParams, response: { 200: EventSubscription, ...problems(400, 401, 404) } } },
    async (request) => publicView(await service().get(requirePrincipal(request), request.params.id.toLowerCase())),
  );

  app.delete(
    '/subscriptions/:id',
    { schema: { tags, summary: 'Delete a subscription (and its dead letters)', params: SubscriptionParams, response: { 204: Type.Null(), ...problems(400, 401, 404) } } },
    async (request, reply) => {
      await service().remove(requirePrincipal(request), request.params.id.toLowerCase());
      return (reply as FastifyReply).code(204).send();
    },
  );

  app.get(
    '/subscriptions/:id/deadletters',
    {
      schema: {
        tags,
        summary: 'Events given up on after the bounded attempts, oldest first',
        params: SubscriptionParams,
        querystring: Type.Object({ size: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ deadLetters: Type.Array(EventDeadLetter) }), ...problems(400, 401, 404) },
      },
    },
    async (request) => ({ deadLetters: await service().deadLetters(requirePrincipal(request), request.params.id.toLowerCase(), request.query.size) }),
  );

  app.post(
    '/subscriptions/:id/deadletters/replay',
    {
      schema: {
        tags,
        summary: 'Deliver dead letters again (all, or the one of `sequence`), before new events',
        params: SubscriptionParams,
        querystring: Type.Object({ sequence: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ replaying: Type.Integer() }), ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const replaying = await service().replay(requirePrincipal(request), request.params.id.toLowerCase(), request.query.sequence);
      app.events.wake();
      return reply.code(202).send({ replaying });
    },
  );
};

export default subscriptionRoutes;
