import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Instance, InstanceEvent, ProcessState } from '@forms/contracts';
import { etagOf, expectedVersion } from '@forms/service-kit';
import { loadInstance } from '../domain/app-context';
import { moveToNextStep, processHistory } from '../domain/process-flow';
import { callerOf, instanceIdOf } from '../http/request';
import { INSTANCE_PATH, InstanceParams, problems } from './schemas';

const tags = ['Process'];

/** The instance's process: where it is, moving it on, and how it got there. */
const processRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.appContext;

  app.get(
    `${INSTANCE_PATH}/process`,
    { schema: { tags, summary: 'Current process state', params: InstanceParams, response: { 200: ProcessState, ...problems(401, 403, 404) } } },
    async (request, reply) => {
      const { instance, version } = await loadInstance(ctx, callerOf(request), instanceIdOf(request.params));
      return reply.header('etag', etagOf(version)).send(instance.process);
    },
  );

  app.put(
    `${INSTANCE_PATH}/process/next`,
    {
      schema: {
        tags,
        summary: 'Complete the current task and move to the next one (or the end)',
        description: 'A data task with validation errors cannot be completed: 409 with `validationIssues`.',
        params: InstanceParams,
        querystring: Type.Object({
          currentTask: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 128,
              description: 'The task the caller means to complete: when the process is elsewhere (a repeated click), 409 TASK_MISMATCH and nothing moves',
            }),
          ),
        }),
        response: { 200: Instance, ...problems(400, 401, 403, 404, 409, 412, 503, 504) },
      },
    },
    async (request, reply) => {
      const instance = await moveToNextStep(ctx, callerOf(request), instanceIdOf(request.params), {
        ...(expectedVersion(request) !== undefined && { expectedVersion: expectedVersion(request) }),
        ...(request.query.currentTask !== undefined && { expectedTask: request.query.currentTask }),
      });
      return reply.header('etag', etagOf(instance.version)).send(instance);
    },
  );

  app.get(
    `${INSTANCE_PATH}/process/history`,
    {
      schema: {
        tags,
        summary: 'Process events of the instance',
        params: InstanceParams,
        response: { 200: Type.Object({ processHistory: Type.Array(InstanceEvent) }), ...problems(401, 403, 404) },
      },
    },
    async (request) => ({ processHistory: await processHistory(ctx, callerOf(request), instanceIdOf(request.params)) }),
  );
};

export default processRoutes;
