import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { formModel } from '../domain/app-context';
import { problems } from './schemas';

/** What the app is: its metadata and the JSON Schemas of its data models. Public, like Altinn's. */
const metadataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { definition } = app.appContext;

  app.get(
    '/api/v1/applicationmetadata',
    { config: { auth: false }, schema: { tags: ['Metadata'], summary: 'The app metadata', response: { 200: Type.Object({}, { additionalProperties: true }) } } },
    async () => definition.metadata,
  );

  app.get(
    '/api/jsonschema/:dataType',
    {
      config: { auth: false },
      schema: {
        tags: ['Metadata'],
        summary: 'JSON Schema of a form data type',
        params: Type.Object({ dataType: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problems(400) },
      },
    },
    async (request) => formModel(app.appContext, request.params.dataType).schema,
  );
};

export default metadataRoutes;
