import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KeyValueEntry } from '@forms/contracts';
import { replaceUserDefinedMetadata, userDefinedMetadata } from '../domain/user-defined-metadata';
import { callerOf, instanceIdOf } from '../http/request';
import { DataParams, INSTANCE_PATH, problems } from './schemas';

const tags = ['Data'];
const METADATA_PATH = `${INSTANCE_PATH}/data/:dataGuid/user-defined-metadata`;
/** Altinn's UserDefinedMetadataDto. */
const UserDefinedMetadataDto = Type.Object({ userDefinedMetadata: Type.Array(KeyValueEntry, { maxItems: 100 }) }, { title: 'UserDefinedMetadataDto' });

/** Key/value metadata a user sets on a data element (Altinn's UserDefinedMetadataController). */
const userDefinedMetadataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    METADATA_PATH,
    {
      schema: { tags, summary: "The data element's user-defined metadata", params: DataParams, response: { 200: UserDefinedMetadataDto, ...problems(401, 403, 404, 503, 504) } },
    },
    async (request) => ({
      userDefinedMetadata: await userDefinedMetadata(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase()),
    }),
  );

  app.put(
    METADATA_PATH,
    {
      schema: {
        tags,
        summary: "Replaces the data element's user-defined metadata (each key once; only the keys its data type allows)",
        params: DataParams,
        body: UserDefinedMetadataDto,
        response: { 200: UserDefinedMetadataDto, ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request) => ({
      userDefinedMetadata: await replaceUserDefinedMetadata(
        request.appContext,
        callerOf(request),
        instanceIdOf(request.params),
        request.params.dataGuid.toLowerCase(),
        request.body.userDefinedMetadata,
      ),
    }),
  );
};

export default userDefinedMetadataRoutes;
