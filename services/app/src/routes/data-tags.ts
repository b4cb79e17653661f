import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { addDataTag, dataTags, removeDataTag } from '../domain/data-tags';
import { callerOf, instanceIdOf } from '../http/request';
import { DataParams, INSTANCE_PATH, problems } from './schemas';

const tags = ['Data'];
const TAGS_PATH = `${INSTANCE_PATH}/data/:dataGuid/tags`;
/** Altinn's TagsList. */
const TagsList = Type.Object({ tags: Type.Array(Type.String()) }, { title: 'TagsList' });

/** Tags on data elements (Altinn's DataTagsController): read with the instance, changed through storage's element metadata. */
const dataTagRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    TAGS_PATH,
    { schema: { tags, summary: "The data element's tags", params: DataParams, response: { 200: TagsList, ...problems(401, 403, 404, 503, 504) } } },
    async (request) => ({ tags: await dataTags(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase()) }),
  );

  app.post(
    TAGS_PATH,
    {
      schema: {
        tags,
        summary: 'Adds a tag (a JSON string of letters, "-" and "_"); answers the tags',
        params: DataParams,
        body: Type.String({ maxLength: 64 }),
        response: { 201: TagsList, ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      const added = await addDataTag(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase(), request.body);
      reply.code(201);
      return { tags: added };
    },
  );

  app.delete(
    `${TAGS_PATH}/:tag`,
    {
      schema: {
        tags,
        summary: 'Removes a tag (idempotent)',
        params: Type.Object({ ...DataParams.properties, tag: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      await removeDataTag(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase(), request.params.tag);
      reply.code(204);
    },
  );
};

export default dataTagRoutes;
