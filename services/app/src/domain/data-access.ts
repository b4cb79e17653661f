import { DomainError, type DataElement, type DataType, type Instance } from '@forms/contracts';
import { AppErrors, loadInstance, type AppContext, type Caller } from './app-context';

export const DataAccessErrors = {
  notInTask: (dataType: string, taskId: string) =>
    new DomainError('conflict', 'NOT_IN_TASK', `Data of type '${dataType}' can only change while the process is in task '${taskId}'.`),
  notWritable: (dataType: string) =>
    new DomainError('forbidden', 'DATA_TYPE_NOT_WRITABLE', `Data of type '${dataType}' is not written by the party; its allowedContributors name who does.`),
};

/**
 * May the caller create, change or delete data of this type through the app? Storage lets the app change any data
 * type of its instances until the process ends (the app is the authority), so the app holds a party to the rules
 * storage holds a party to when it calls directly (as Altinn's app API holds its callers):
 * - a type bound to a task changes only while the process is in that task (409 NOT_IN_TASK);
 * - an attachment type whose `allowedContributors` are set (orgs, or `app:owned`) is not the party's to write
 *   (403 DATA_TYPE_NOT_WRITABLE); form data (types with `appLogic`) is, through the app's checks and rules.
 * An org calling through the app reaches storage as the org, which checks its own rules.
 */
export function assertMayChangeData(caller: Caller, instance: Instance, dataType: DataType): void {
  if (caller.principal.kind === 'org') return;
  const task = instance.process.currentTask?.elementId;
  if (dataType.taskId !== undefined && dataType.taskId !== task) throw DataAccessErrors.notInTask(dataType.id, dataType.taskId);
  if (dataType.appLogic === undefined && (dataType.allowedContributors ?? []).length > 0) throw DataAccessErrors.notWritable(dataType.id);
}

/** The app's definition of a data type (storage keeps the same metadata). */
export function dataTypeOf(ctx: AppContext, id: string): DataType {
  const dataType = ctx.definition.metadata.dataTypes.find((type) => type.id === id);
  if (!dataType) throw AppErrors.unknownDataType(id);
  return dataType;
}

export function findElement(instance: Instance, dataId: string): DataElement {
  const element = instance.data.find((d) => d.id === dataId);
  if (!element) throw AppErrors.dataElementNotFound();
  return element;
}

/** DELETE data/{id}: checked as above, then deleted in storage (which checks the caller's role and the element's lock). */
export async function deleteDataElement(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, expectedVersion?: number): Promise<void> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  const element = findElement(instance, dataId);
  assertMayChangeData(caller, instance, dataTypeOf(ctx, element.dataType));
  await ctx.storage.deleteData(caller.token, instanceId, dataId, expectedVersion);
}
