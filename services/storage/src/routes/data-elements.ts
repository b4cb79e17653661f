import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DataElement, DataElementList, DataElementUpdate } from '@forms/contracts';
import { etagOf, expectedVersion, requirePrincipal } from '../http/headers';
import { DataParams, INSTANCE_PATH, InstanceParams, problems, refOf } from './schemas';

const tags = ['Data'];

/** Data element metadata as Altinn's DataElements controller serves it (content is in routes/data.ts). */
const dataElementRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { elements } = app.storage;

  app.get(
    `${INSTANCE_PATH}/dataelements`,
    { schema: { tags, summary: 'List the data elements of an instance', params: InstanceParams, response: { 200: DataElementList, ...problems(401, 403, 404) } } },
    async (request) => ({ dataElements: await elements.list(requirePrincipal(request), refOf(request.params)) }),
  );

  app.put(
    `${INSTANCE_PATH}/dataelements/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Update the metadata of a data element',
        description: 'Tags, refs, references, metadata, userDefinedMetadata, filename and (app or org) locked; the content is changed with PUT data/{dataGuid}.',
        params: DataParams,
        body: DataElementUpdate,
        response: { 200: DataElement, ...problems(400, 401, 403, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      const element = await elements.update(
        requirePrincipal(request),
        refOf(request.params),
        request.params.dataGuid.toLowerCase(),
        request.body,
        expectedVersion(request),
      );
      reply.header('etag', etagOf(element.version));
      return element;
    },
  );
};

export default dataElementRoutes;
