import { advanceProcess } from '@forms/app-definition';
import { versionMismatch, type Instance, type InstanceEvent } from '@forms/contracts';
import { AppErrors, loadInstance, ruleContext, type AppContext, type Caller } from './app-context';
import { hasErrors, loadFormData, validateInstance } from './validation';

const PROCESS_EVENT_TYPES = ['process_StartEvent', 'process_StartTask', 'process_EndTask', 'process_EndEvent'] as const;

/**
 * Moves the instance to its next task (through gateways) or to the end. A data task with validation errors
 * cannot be left. The storage write is guarded by the version the decision was based on, so two concurrent
 * "next" calls cannot both move the process.
 */
export interface NextStepGuard {
  /** The version the caller's decision was based on (If-Match). */
  expectedVersion?: number;
  /** The task the caller means to complete: a repeated request finds the process elsewhere and moves nothing. */
  expectedTask?: string;
}

export async function moveToNextStep(ctx: AppContext, caller: Caller, instanceId: string, guard: NextStepGuard = {}): Promise<Instance> {
  const { instance, version } = await loadInstance(ctx, caller, instanceId);
  if (guard.expectedVersion !== undefined && guard.expectedVersion !== version) throw versionMismatch(version);
  const currentTask = instance.process.currentTask;
  if (guard.expectedTask !== undefined && guard.expectedTask !== currentTask?.elementId) {
    throw AppErrors.taskMismatch(guard.expectedTask, currentTask?.elementId);
  }
  if (instance.process.ended) throw AppErrors.processEnded();
  if (!currentTask) throw AppErrors.processNotStarted();

  const formData = await loadFormData(ctx, caller, instance);
  if (currentTask.altinnTaskType === 'data') {
    const issues = await validateInstance(ctx, caller, instance, formData);
    if (hasErrors(issues)) throw AppErrors.validationFailed(issues);
  }
  const validationContext = {
    ...ruleContext(ctx, caller, instance.instanceOwner.partyId, instance),
    instance,
    formData,
    currentTask: currentTask.elementId,
  };
  await ctx.definition.rules.onTaskEnd?.(currentTask.elementId, validationContext);

  const byType = new Map<string, unknown>();
  for (const { dataType, data } of formData.values()) if (!byType.has(dataType)) byType.set(dataType, data);
  const next = advanceProcess(ctx.definition.process, instance.process, byType, ctx.clock());
  const updated = await ctx.storage.updateProcess(caller.token, instanceId, next.state, version);
  if (next.ended) await ctx.definition.rules.onProcessEnd?.({ ...validationContext, instance: updated });
  return updated;
}

export async function processHistory(ctx: AppContext, caller: Caller, instanceId: string): Promise<InstanceEvent[]> {
  await loadInstance(ctx, caller, instanceId);
  return ctx.storage.listEvents(caller.token, instanceId, { eventTypes: [...PROCESS_EVENT_TYPES] });
}
