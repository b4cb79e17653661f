import etag from '@fastify/etag';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DomainError } from '@forms/contracts';
import { formModel } from '../domain/app-context';
import { loadTextResources, processDocument } from '../domain/text-resources';
import { DEFAULT_LANGUAGE, Language, problems } from './schemas';

const tags = ['Metadata'];
const TextResource = Type.Object(
  {
    id: Type.String(),
    org: Type.String(),
    language: Type.String(),
    resources: Type.Array(Type.Object({ id: Type.String(), value: Type.String() }, { title: 'TextResourceElement' })),
  },
  { title: 'TextResource' },
);

/**
 * What the app is: its metadata, data models, process and texts. Public, like Altinn's, and fetched by every client
 * on every start: each answer has an ETag, and a client that sends it back (If-None-Match) gets 304 without a body.
 */
const metadataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(etag);
  const { definition } = app.appContext;
  const texts = await loadTextResources(definition.folder, definition.org, definition.app);
  const process = await processDocument(definition.folder);

  app.get(
    '/api/v1/applicationmetadata',
    { config: { auth: false }, schema: { tags, summary: 'The app metadata', response: { 200: Type.Object({}, { additionalProperties: true }) } } },
    async () => definition.metadata,
  );

  app.get(
    '/api/jsonschema/:dataType',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: 'JSON Schema of a form data type',
        params: Type.Object({ dataType: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problems(400) },
      },
    },
    async (request) => formModel(app.appContext, request.params.dataType).schema,
  );

  app.get(
    '/api/v1/meta/process',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: "The app's process definition: its BPMN file, or its process.json for apps defined in JSON",
        response: { 200: { description: 'BPMN (application/xml) or process JSON', content: { 'application/xml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    async (_request, reply) => reply.type(process.contentType).send(process.body),
  );

  app.get(
    '/api/v1/applicationlanguages',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: 'The languages the app has texts in (texts/resource.<language>.json)',
        response: { 200: Type.Array(Type.Object({ language: Type.String() }, { title: 'ApplicationLanguage' })) },
      },
    },
    async () => [...texts.keys()].map((language) => ({ language })),
  );

  app.get(
    '/api/v1/texts/:language',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: "The app's texts in one language (from texts/resource.<language>.json); nb when the app has none in that language, as in Altinn",
        params: Type.Object({ language: Language }),
        response: { 200: TextResource, ...problems(400, 404) },
      },
    },
    async (request) => {
      const resource = texts.get(request.params.language.toLowerCase()) ?? texts.get(DEFAULT_LANGUAGE);
      if (!resource) throw new DomainError('not_found', 'TEXT_RESOURCE_NOT_FOUND', `The app has no texts in '${request.params.language}', nor in ${DEFAULT_LANGUAGE}.`);
      return resource;
    },
  );
};

export default metadataRoutes;
