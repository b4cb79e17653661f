import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { assertJsonDepth, DomainError, Instance } from '@forms/contracts';
import { etagOf, expectedVersion } from '@forms/service-kit';
import { parseMultiPatchRequest, parsePatchRequest, patchFormElements } from '../domain/form-patch';
import { issuesBySource } from '../domain/issues';
import { callerOf, instanceIdOf } from '../http/request';
import { DataParams, FormDataBody, INSTANCE_PATH, InstanceParams, ValidationSourcePairs, problems } from './schemas';

const tags = ['Data'];
const Operation = Type.Object({ op: Type.String(), path: Type.String() }, { additionalProperties: true, title: 'JsonPatchOperation' });
const PatchResponse = Type.Object(
  { validationIssues: ValidationSourcePairs, newDataModel: FormDataBody, instance: Instance },
  { title: 'DataPatchResponse' },
);
const PatchResponseMultiple = Type.Object(
  {
    validationIssues: ValidationSourcePairs,
    newDataModels: Type.Array(Type.Object({ dataElementId: Type.String(), data: FormDataBody }, { title: 'DataModelPairResponse' })),
    instance: Instance,
  },
  { title: 'DataPatchResponseMultiple' },
);
const PatchRequest = Type.Object(
  { patch: Type.Array(Operation, { maxItems: 1000 }), ignoredValidators: Type.Optional(Type.Array(Type.String())) },
  { title: 'DataPatchRequest' },
);
const PatchRequestMultiple = Type.Object(
  {
    patches: Type.Array(Type.Object({ dataElementId: Type.String(), patch: Type.Array(Operation, { maxItems: 1000 }) })),
    ignoredValidators: Type.Optional(Type.Array(Type.String())),
  },
  { title: 'DataPatchRequestMultiple' },
);

/**
 * Form data changed by JSON Patch, in Altinn's request and response shapes. JSON bodies only, at most the form
 * data limit and 100 levels deep, parsed here rather than by the data routes (which take their bodies raw).
 */
const dataPatchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: app.appContext.maxFormDataBytes }, (_request, text, done) => {
    try {
      assertJsonDepth(text as string);
      done(null, JSON.parse(text as string));
    } catch (error) {
      done(error instanceof DomainError ? error : new DomainError('invalid', 'MALFORMED_JSON', 'The patch request is not valid JSON.'), undefined);
    }
  });

  app.patch(
    `${INSTANCE_PATH}/data/:dataGuid`,
    {
      schema: {
        tags,
        summary: 'Change form data with JSON Patch (RFC 6902) in `{patch, ignoredValidators}`; answers the new model, the validation issues and the instance',
        description: '`test` operations and If-Match guard against concurrent changes; a failing test is 409 PATCH_TEST_FAILED.',
        params: DataParams,
        body: PatchRequest,
        response: { 200: PatchResponse, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 503, 504) },
      },
    },
    async (request, reply) => {
      const { patch, ignoredValidators } = parsePatchRequest(request.body);
      const dataElementId = request.params.dataGuid.toLowerCase();
      const version = expectedVersion(request);
      const outcome = await patchFormElements(request.appContext, callerOf(request), instanceIdOf(request.params), [{ dataElementId, patch }], {
        ...(ignoredValidators && { ignoredValidators }),
        ...(version !== undefined && { expectedVersion: version }),
      });
      const element = outcome.dataElements[0];
      if (element) reply.header('etag', etagOf(element.version));
      return { validationIssues: issuesBySource(outcome.validationIssues), newDataModel: outcome.newDataModels[0]?.data ?? {}, instance: outcome.instance };
    },
  );

  app.patch(
    `${INSTANCE_PATH}/data`,
    {
      schema: {
        tags,
        summary: 'Change several form data elements with JSON Patch in `{patches: [{dataElementId, patch}], ignoredValidators}`',
        description: 'Every patch is applied and checked before any is written; the elements are then written one by one.',
        params: InstanceParams,
        body: PatchRequestMultiple,
        response: { 200: PatchResponseMultiple, ...problems(400, 401, 403, 404, 409, 412, 413, 415, 503, 504) },
      },
    },
    async (request) => {
      const { patches, ignoredValidators } = parseMultiPatchRequest(request.body);
      const outcome = await patchFormElements(request.appContext, callerOf(request), instanceIdOf(request.params), patches, ignoredValidators ? { ignoredValidators } : {});
      return { validationIssues: issuesBySource(outcome.validationIssues), newDataModels: outcome.newDataModels, instance: outcome.instance };
    },
  );

};

export default dataPatchRoutes;
