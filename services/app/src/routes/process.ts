import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { ProcessHistoryList, ProcessState } from '@forms/contracts';
import { etagOf, expectedVersion } from '@forms/service-kit';
import { loadInstance } from '../domain/app-context';
import { completeProcess, moveToNextStep, nextElements, processHistory } from '../domain/process-flow';
import { callerOf, instanceIdOf } from '../http/request';
import { INSTANCE_PATH, InstanceParams, problems } from './schemas';

const tags = ['Process'];
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

/** Altinn's ProcessNext body: what the user does, and for whom. */
const ProcessNext = Type.Object(
  {
    action: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'submit, write or confirm (default: the task\'s own)' }))),
    actionOnBehalfOf: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { title: 'ProcessNext' },
);


/** Altinn's AppProcessState: the ProcessState with the tasks of the app's process. */
const AppProcessState = Type.Composite(
  [ProcessState, Type.Object({ processTasks: Type.Array(Type.Object({ altinnTaskType: Type.String(), elementId: Type.String() }, { title: 'AppProcessTaskTypeInfo' })) })],
  { title: 'AppProcessState' },
);

/** The instance's process: where it is, moving it on, and how it got there. */
const processRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const processTasks = [...app.appContext.definition.process.elements.values()].flatMap((element) =>
    element.kind === 'task' ? [{ altinnTaskType: element.taskType, elementId: element.id }] : [],
  );
  const appProcessState = (process: Static<typeof ProcessState>) => ({ ...process, processTasks });

  app.get(
    `${INSTANCE_PATH}/process`,
    { schema: { tags, summary: 'Current process state', params: InstanceParams, response: { 200: AppProcessState, ...problems(401, 403, 404) } } },
    async (request, reply) => {
      const { instance, version } = await loadInstance(request.appContext, callerOf(request), instanceIdOf(request.params));
      reply.header('etag', etagOf(version));
      return appProcessState(instance.process);
    },
  );

  app.get(
    `${INSTANCE_PATH}/process/next`,
    {
      schema: {
        tags,
        summary: 'Where completing the current task leads, by the current form data',
        params: InstanceParams,
        response: { 200: Type.Array(Type.String()), ...problems(401, 403, 404, 409) },
      },
    },
    async (request) => nextElements(request.appContext, callerOf(request), instanceIdOf(request.params)),
  );

  app.put(
    `${INSTANCE_PATH}/process/next`,
    {
      schema: {
        tags,
        summary: 'Complete the current task and move to the next one (or the end); answers the new process state',
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
          language: Type.Optional(Type.String({ maxLength: 8, description: 'Accepted as in Altinn; texts here are not translated' })),
        }),
        body: ProcessNext,
        response: { 200: AppProcessState, ...problems(400, 401, 403, 404, 409, 412, 503, 504) },
      },
      // The body is optional, as in Altinn: none means the task's own action.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    async (request, reply) => {
      const action = request.body.action;
      const instance = await moveToNextStep(request.appContext, callerOf(request), instanceIdOf(request.params), {
        ...(expectedVersion(request) !== undefined && { expectedVersion: expectedVersion(request) }),
        ...(request.query.currentTask !== undefined && { expectedTask: request.query.currentTask }),
        ...(action !== undefined && { action }),
      });
      reply.header('etag', etagOf(instance.version));
      return appProcessState(instance.process);
    },
  );

  app.put(
    `${INSTANCE_PATH}/process/completeProcess`,
    {
      schema: {
        tags,
        summary: 'Complete task after task, each as process/next with its own action, until the process ends',
        description:
          'Stops at the first task that cannot be completed (409 `VALIDATION_FAILED` with `validationIssues`); tasks completed before it stay completed.',
        params: InstanceParams,
        querystring: Type.Object({ language: Type.Optional(Type.String({ maxLength: 8, description: 'Accepted as in Altinn; texts here are not translated' })) }),
        response: { 200: AppProcessState, ...problems(401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      const instance = await completeProcess(request.appContext, callerOf(request), instanceIdOf(request.params));
      reply.header('etag', etagOf(instance.version));
      return appProcessState(instance.process);
    },
  );

  app.get(
    `${INSTANCE_PATH}/process/history`,
    {
      schema: {
        tags,
        summary: 'Process events of the instance (Altinn\'s ProcessHistoryList)',
        params: InstanceParams,
        response: { 200: ProcessHistoryList, ...problems(401, 403, 404) },
      },
    },
    async (request) => ({ processHistory: await processHistory(request.appContext, callerOf(request), instanceIdOf(request.params)) }),
  );
};

export default processRoutes;
