import type { ValidationContext, ValidationIssue } from '@forms/app-definition';
import type { Instance } from '@forms/contracts';
import { AppErrors, loadInstance, ruleContext, type AppContext, type Caller } from './app-context';
import { readStoredFormData } from './form-data';
import { fileScanIssues } from './file-scan-validation';

/** Form data of an instance by data element id. */
export async function loadFormData(ctx: AppContext, caller: Caller, instance: Instance): Promise<Map<string, { dataType: string; data: unknown }>> {
  const formElements = instance.data.filter((element) => ctx.definition.models.has(element.dataType));
  const entries = await Promise.all(
    formElements.map(async (element) => [element.id, { dataType: element.dataType, data: await readStoredFormData(ctx, caller, instance.id, element) }] as const),
  );
  return new Map(entries);
}

/** Data types that belong to the given task (or to no task, which are checked at every task). */
function dataTypesOfTask(ctx: AppContext, taskId: string | undefined) {
  return ctx.definition.metadata.dataTypes.filter((type) => !type.taskId || type.taskId === taskId);
}

/**
 * Full validation of an instance: files of the current task's types whose malware scan is pending or found malware,
 * counts per data type (minCount/maxCount of the current task's types), the JSON Schema of every form data element, and the app's own rules.
 */
export async function validateInstance(
  ctx: AppContext,
  caller: Caller,
  instance: Instance,
  formData?: Map<string, { dataType: string; data: unknown }>,
): Promise<ValidationIssue[]> {
  const currentTask = instance.process.currentTask?.elementId ?? undefined;
  const issues: ValidationIssue[] = fileScanIssues(instance, new Set(dataTypesOfTask(ctx, currentTask).map((type) => type.id)));

  for (const type of dataTypesOfTask(ctx, currentTask)) {
    const count = instance.data.filter((element) => element.dataType === type.id).length;
    if (count < type.minCount) {
      issues.push({
        severity: 'error',
        code: 'TooFewDataElementsOfType',
        description: `At least ${type.minCount} element(s) of '${type.id}' are required; there are ${count}.`,
        field: type.id,
        source: 'dataTypes',
      });
    }
    if (type.maxCount > 0 && count > type.maxCount) {
      issues.push({
        severity: 'error',
        code: 'TooManyDataElementsOfType',
        description: `At most ${type.maxCount} element(s) of '${type.id}' are allowed; there are ${count}.`,
        field: type.id,
        source: 'dataTypes',
      });
    }
  }

  const data = formData ?? (await loadFormData(ctx, caller, instance));
  for (const [dataElementId, { dataType, data: content }] of data) {
    const model = ctx.definition.models.get(dataType);
    if (model) issues.push(...model.validate(content).map((issue) => ({ ...issue, dataElementId })));
  }

  if (ctx.definition.rules.validate) {
    const validationContext: ValidationContext = {
      ...ruleContext(ctx, caller, instance.instanceOwner.partyId, instance),
      instance,
      formData: data,
      ...(currentTask && { currentTask }),
    };
    issues.push(...(await ctx.definition.rules.validate(validationContext)));
  }
  return issues;
}

/**
 * `validate` as Altinn answers it: only while the process is in a task (409 once it has ended), and for one data
 * element (its issues only; 404 when the instance has no such element) when `dataId` is given.
 */
export async function validateCurrentTask(ctx: AppContext, caller: Caller, instanceId: string, dataId?: string): Promise<ValidationIssue[]> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  if (dataId !== undefined && !instance.data.some((element) => element.id === dataId)) throw AppErrors.dataElementNotFound();
  if (instance.process.ended) throw AppErrors.processEnded();
  if (!instance.process.currentTask) throw AppErrors.processNotStarted();
  const issues = await validateInstance(ctx, caller, instance);
  return dataId === undefined ? issues : issues.filter((issue) => issue.dataElementId === dataId);
}

/** Validation of form data without an instance (`/v1/data/validate`): schema and rules. */
export async function validateStateless(
  ctx: AppContext,
  caller: Caller,
  dataType: string,
  data: unknown,
  partyId: string,
): Promise<ValidationIssue[]> {
  const model = ctx.definition.models.get(dataType);
  const issues = model ? model.validate(data) : [];
  if (ctx.definition.rules.validate) {
    const now = ctx.clock();
    // Rules see a transient instance holding just this data, so the same rule code serves both cases.
    const transient: Instance = {
      id: `${partyId}/00000000-0000-4000-8000-000000000000`,
      instanceOwner: { partyId },
      appId: ctx.definition.metadata.id,
      org: ctx.definition.org,
      selfLinks: { platform: '' },
      process: {},
      status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread' },
      completeConfirmations: [],
      data: [],
      dataValues: {},
      version: 1,
      created: now,
      createdBy: '',
      lastChanged: now,
      lastChangedBy: '',
    };
    issues.push(
      ...(await ctx.definition.rules.validate({
        ...ruleContext(ctx, caller, partyId),
        instance: transient,
        formData: new Map([['stateless', { dataType, data }]]),
      })),
    );
  }
  return issues;
}

export const hasErrors = (issues: ValidationIssue[]) => issues.some((issue) => issue.severity === 'error');
