import type { Application, InstanceEventType, ProcessState } from '@forms/contracts';
import { StorageErrors } from './errors';

/** One audit event a process change implies, with the process state it names. */
export interface ProcessEvent {
  type: InstanceEventType;
  processInfo: ProcessState;
}

/**
 * Storage keeps the process coherent whoever writes it: a started process is either in one of the app's
 * registered tasks or ended (never both, never neither), and an ended process is final.
 */
export function checkProcessChange(application: Pick<Application, 'processTasks'>, before: ProcessState, after: ProcessState): void {
  if (before.ended) throw StorageErrors.processEnded();
  if (!after.started) throw StorageErrors.invalidProcessState('A process state needs `started`.');
  if (before.started && after.started !== before.started) throw StorageErrors.invalidProcessState('`started` of a running process cannot change.');
  const inTask = after.currentTask != null;
  if (inTask === (after.ended != null)) {
    throw StorageErrors.invalidProcessState('A process is either in a task (`currentTask`) or ended (`ended`), not both and not neither.');
  }
  if (after.endEvent != null && after.ended == null) throw StorageErrors.invalidProcessState('`endEvent` belongs to an ended process.');
  const taskId = after.currentTask?.elementId;
  if (taskId !== undefined && !(application.processTasks ?? []).includes(taskId)) {
    throw StorageErrors.invalidProcessState(`'${taskId}' is not a task of the app's process.`);
  }
}

/** The audit events a process change implies, in the order they happened; an ended task's event names that task. */
export function processChangeEvents(before: ProcessState, after: ProcessState, now: string): ProcessEvent[] {
  const events: ProcessEvent[] = [];
  if (!before.started && after.started) events.push({ type: 'process_StartEvent', processInfo: after });
  const taskBefore = before.currentTask;
  const taskAfter = after.currentTask;
  if (taskBefore && taskBefore.elementId !== taskAfter?.elementId) {
    events.push({ type: 'process_EndTask', processInfo: { ...after, currentTask: { ...taskBefore, ended: taskBefore.ended ?? now } } });
  }
  if (taskAfter && taskAfter.elementId !== taskBefore?.elementId) events.push({ type: 'process_StartTask', processInfo: after });
  if (!before.ended && after.ended) events.push({ type: 'process_EndEvent', processInfo: after }, { type: 'Submited', processInfo: after });
  return events;
}
