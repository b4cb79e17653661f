import { advanceProcess, branchingActions } from '@forms/app-definition';
import { versionMismatch, type Instance, type ProcessHistoryItem } from '@forms/contracts';
import { AppErrors, guardedByOwnRead, loadInstance, ruleContext, type AppContext, type Caller } from './app-context';
import { signCurrentTask } from './signing';
import { hasErrors, loadFormData, validateInstance } from './validation';

/** What the caller expects of the move; a mismatch moves nothing. */
export interface NextStepGuard {
  /** The version the caller's decision was based on (If-Match). */
  expectedVersion?: number;
  /** The task the caller means to complete: a repeated request finds the process elsewhere and moves nothing. */
  expectedTask?: string;
  /** Altinn's `action` (what the user does to complete the task); see PROCESS_ACTIONS. */
  action?: string | null;
}

/**
 * The actions any task is completed with. Other actions (Altinn's `reject`, an app's own) are those a gateway after
 * the current task branches on (`{ "action": "reject" }`); any other is refused rather than taken as `submit`.
 */
export const PROCESS_ACTIONS = ['submit', 'write', 'confirm'] as const;
/** Sends the work back (Altinn's `reject`): the data task it leaves is not validated first. */
const REJECT = 'reject';
/** What completes a signing task (Altinn's `sign`, also when no action is given): the caller signs its data. */
const SIGN = 'sign';

/**
 * Moves the instance to its next task (through gateways) or to the end. A data task with validation errors
 * cannot be left; a signing task is left by signing its data (signCurrentTask). The storage write is guarded by the version the decision was based on, so two concurrent
 * "next" calls cannot both move the process (the loser gets 412 with If-Match, else 409 CHANGED_MEANWHILE).
 */
export async function moveToNextStep(ctx: AppContext, caller: Caller, instanceId: string, guard: NextStepGuard = {}): Promise<Instance> {
  let { instance, version } = await loadInstance(ctx, caller, instanceId);
  if (guard.expectedVersion !== undefined && guard.expectedVersion !== version) throw versionMismatch(version);
  const currentTask = instance.process.currentTask;
  if (guard.expectedTask !== undefined && guard.expectedTask !== currentTask?.elementId) {
    throw AppErrors.taskMismatch(guard.expectedTask, currentTask?.elementId);
  }
  if (instance.process.ended) throw AppErrors.processEnded();
  if (!currentTask) throw AppErrors.processNotStarted();
  const action = guard.action ?? undefined;
  const signingTask = currentTask.altinnTaskType === 'signing';
  const ownActions: readonly string[] = signingTask ? [SIGN] : PROCESS_ACTIONS;
  if (action !== undefined && !ownActions.includes(action) && !branchingActions(ctx.definition.process, currentTask.elementId).includes(action)) {
    throw AppErrors.actionNotSupported(action);
  }
  if (signingTask && action !== REJECT) {
    const task = ctx.definition.process.elements.get(currentTask.elementId);
    if (task?.kind === 'task' && (await signCurrentTask(ctx, caller, instance, task))) {
      // The signature is a write: the move is guarded by the version that holds it.
      ({ instance, version } = await loadInstance(ctx, caller, instanceId));
      if (instance.process.currentTask?.elementId !== currentTask.elementId) throw AppErrors.taskMismatch(currentTask.elementId, instance.process.currentTask?.elementId);
    }
  }

  const formData = await loadFormData(ctx, caller, instance);
  if (currentTask.altinnTaskType === 'data' && action !== REJECT) {
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

  const next = advanceProcess(ctx.definition.process, instance.process, formDataByType(formData), ctx.clock(), action);
  const updated = await guardedByOwnRead(guard.expectedVersion, () => ctx.storage.updateProcess(caller.token, instanceId, next.state, version));
  if (next.ended) await ctx.definition.rules.onProcessEnd?.({ ...validationContext, instance: updated });
  return updated;
}

/** More tasks than any process here has: a process that goes round without ending is stopped, not followed forever. */
const MAX_TASKS_COMPLETED = 20;

/**
 * Altinn's `completeProcess`: completes task after task, each exactly as `process/next` with the task's own action
 * (validated, rules run, guarded by the task it read), until the process ends. It stops at the first task that
 * cannot be completed (409 with its validation issues); the tasks completed before it stay completed, as they would
 * have by one `process/next` each.
 */
export async function completeProcess(ctx: AppContext, caller: Caller, instanceId: string): Promise<Instance> {
  let { instance } = await loadInstance(ctx, caller, instanceId);
  if (instance.process.ended) throw AppErrors.processEnded();
  for (let completed = 0; completed < MAX_TASKS_COMPLETED; completed += 1) {
    const task = instance.process.currentTask?.elementId;
    if (instance.process.ended || task === undefined) return instance;
    instance = await moveToNextStep(ctx, caller, instanceId, { expectedTask: task });
  }
  if (instance.process.ended) return instance;
  throw AppErrors.processDidNotEnd(MAX_TASKS_COMPLETED, instance.process.currentTask?.elementId);
}

/** Altinn's process history, as storage (the record) tells it. */
export async function processHistory(ctx: AppContext, caller: Caller, instanceId: string): Promise<ProcessHistoryItem[]> {
  await loadInstance(ctx, caller, instanceId);
  return ctx.storage.getProcessHistory(caller.token, instanceId);
}

/** Where `process/next` would go from here (Altinn's `GET process/next`): the next task or end event, by the current form data. */
export async function nextElements(ctx: AppContext, caller: Caller, instanceId: string): Promise<string[]> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  if (instance.process.ended) throw AppErrors.processEnded();
  if (!instance.process.currentTask) throw AppErrors.processNotStarted();
  const formData = await loadFormData(ctx, caller, instance);
  const next = advanceProcess(ctx.definition.process, instance.process, formDataByType(formData), ctx.clock());
  const target = next.state.currentTask?.elementId ?? next.state.endEvent;
  return target ? [target] : [];
}

function formDataByType(formData: Map<string, { dataType: string; data: unknown }>): Map<string, unknown> {
  const byType = new Map<string, unknown>();
  for (const { dataType, data } of formData.values()) if (!byType.has(dataType)) byType.set(dataType, data);
  return byType;
}
