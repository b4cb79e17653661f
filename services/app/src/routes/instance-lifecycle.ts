import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FileScanResultSchema, Instance, PartyId, SimpleInstance, Substatus } from '@forms/contracts';
import { etagOf } from '@forms/service-kit';
import { activeInstances, confirmComplete, deleteInstance, setSubstatus } from '../domain/instance-lifecycle';
import { instanceFileScanResult } from '../domain/file-scan-validation';
import { callerOf, instanceIdOf } from '../http/request';
import { INSTANCE_PATH, InstanceParams, problems } from './schemas';

const tags = ['Instances'];
/** Altinn's InstanceFileScanResult. */
const InstanceFileScanResult = Type.Object(
  {
    id: Type.String(),
    fileScanResult: FileScanResultSchema,
    data: Type.Array(Type.Object({ id: Type.String(), fileScanResult: FileScanResultSchema }, { title: 'DataElementFileScanResult' })),
  },
  { title: 'InstanceFileScanResult' },
);

/** After instantiation: a party's unfinished instances, the org's confirmation and substatus, deletion. All through storage. */
const instanceLifecycleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/instances/:instanceOwnerPartyId/active',
    {
      schema: {
        tags,
        summary: "The party's instances of this app whose process has not ended",
        params: Type.Object({ instanceOwnerPartyId: PartyId }),
        response: { 200: Type.Array(SimpleInstance), ...problems(401, 403, 503, 504) },
      },
    },
    async (request) => activeInstances(request.appContext, callerOf(request), request.params.instanceOwnerPartyId),
  );

  app.get(
    `${INSTANCE_PATH}/filescanresult`,
    {
      schema: {
        tags,
        summary: "The malware scan state of the instance's files, each and as a whole (for a client waiting on its uploads)",
        params: InstanceParams,
        response: { 200: InstanceFileScanResult, ...problems(401, 403, 404, 503, 504) },
      },
    },
    async (request) => instanceFileScanResult(request.appContext, callerOf(request), instanceIdOf(request.params)),
  );

  app.post(
    `${INSTANCE_PATH}/complete`,
    {
      schema: {
        tags,
        summary: 'The org confirms it has downloaded the instance (idempotent)',
        params: InstanceParams,
        response: { 200: Instance, ...problems(401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      const instance = await confirmComplete(request.appContext, callerOf(request), instanceIdOf(request.params));
      reply.header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.put(
    `${INSTANCE_PATH}/substatus`,
    {
      schema: {
        tags,
        summary: "Set the instance's substatus (the org)",
        params: InstanceParams,
        body: Substatus,
        response: { 200: Instance, ...problems(400, 401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const instance = await setSubstatus(request.appContext, callerOf(request), instanceIdOf(request.params), request.body);
      reply.header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.delete(
    INSTANCE_PATH,
    {
      schema: {
        tags,
        summary: 'Delete the instance: softly, or for good with hard=true (who may is storage\'s permission table)',
        params: InstanceParams,
        querystring: Type.Object({ hard: Type.Optional(Type.Boolean({ default: false })) }),
        response: { 200: Instance, ...problems(401, 403, 404, 409, 503, 504) },
      },
    },
    async (request) => deleteInstance(request.appContext, callerOf(request), instanceIdOf(request.params), request.query.hard ?? false),
  );
};

export default instanceLifecycleRoutes;
