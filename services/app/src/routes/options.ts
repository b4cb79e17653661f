import etag from '@fastify/etag';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { OPTIONS_ID_PATTERN, type AppOptions } from '@forms/app-definition';
import { downstreamParameters, instanceCodeList, publicCodeList, type OptionsRequest } from '../domain/code-lists';
import { callerOf, instanceIdOf } from '../http/request';
import { DEFAULT_LANGUAGE, INSTANCE_PATH, InstanceParams, Language, problems } from './schemas';

const tags = ['Options'];
const DOWNSTREAM_PARAMETERS = 'altinn-downstreamparameters';

const OptionsId = Type.String({ pattern: OPTIONS_ID_PATTERN });
/** `language`, and any other parameters the code list is made from (single values, a handful, of modest length). */
const OptionsQuery = Type.Object(
  { language: Type.Optional(Language) },
  { additionalProperties: Type.String({ maxLength: 500 }), maxProperties: 20 },
);
const AppOption = Type.Object(
  {
    value: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
    label: Type.String(),
    description: Type.Optional(Type.String()),
    helpText: Type.Optional(Type.String()),
  },
  { title: 'AppOption' },
);
const OptionList = Type.Array(AppOption, {
  description: 'The code list',
  // Documented in the OpenAPI answer (@fastify/swagger reads `headers`); the serializer ignores it.
  headers: { [DOWNSTREAM_PARAMETERS]: { type: 'string', description: 'The parameters the list was made from (name=value, URL-encoded, comma-separated), if any' } },
});

function optionsRequest(query: Static<typeof OptionsQuery>): OptionsRequest {
  const { language, ...rest } = query;
  return { language: language?.toLowerCase() ?? DEFAULT_LANGUAGE, query: rest as Record<string, string> };
}

function send(reply: FastifyReply, list: AppOptions) {
  const parameters = downstreamParameters(list.parameters);
  if (parameters !== undefined) reply.header(DOWNSTREAM_PARAMETERS, parameters);
  return list.options;
}

/**
 * Code lists (Altinn's OptionsController): public ones from the app's files or rules, and lists drawn from an
 * instance. Each answer has an ETag; sent back in If-None-Match, an unchanged list is 304 without a body.
 */
const optionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(etag);
  app.get(
    '/api/options/:optionsId',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: "A code list: the rules' options hook, else the app's options/<optionsId>.json (public)",
        params: Type.Object({ optionsId: OptionsId }),
        querystring: OptionsQuery,
        response: { 200: OptionList, ...problems(400, 404) },
      },
    },
    async (request, reply) => send(reply, await publicCodeList(request.appContext, request.params.optionsId, optionsRequest(request.query))),
  );

  app.get(
    `${INSTANCE_PATH}/options/:optionsId`,
    {
      schema: {
        tags,
        summary: "A code list drawn from the instance (the rules' instanceOptions hook), for those who may read it",
        params: Type.Composite([InstanceParams, Type.Object({ optionsId: OptionsId })]),
        querystring: OptionsQuery,
        response: { 200: OptionList, ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const { optionsId, ...instance } = request.params;
      return send(reply, await instanceCodeList(request.appContext, callerOf(request), instanceIdOf(instance), optionsId, optionsRequest(request.query)));
    },
  );
};

export default optionsRoutes;
