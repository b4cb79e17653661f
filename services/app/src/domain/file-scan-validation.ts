import type { ValidationIssue } from '@forms/app-definition';
import type { FileScanResult, Instance } from '@forms/contracts';
import { loadInstance, type AppContext, type Caller } from './app-context';

/** Altinn's issue codes: a task cannot be completed while a file of it awaits its malware scan or is infected. */
export const FILE_SCAN_PENDING = 'ValidationErrorOnPendingFileScan';
export const FILE_INFECTED = 'DataElementFileInfected';

/** Issues for the elements of `dataTypeIds` whose malware scan is pending or found malware. */
export function fileScanIssues(instance: Instance, dataTypeIds: ReadonlySet<string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const element of instance.data) {
    if (!dataTypeIds.has(element.dataType)) continue;
    if (element.fileScanResult === 'Pending') {
      issues.push({
        severity: 'error',
        code: FILE_SCAN_PENDING,
        description: `The file '${element.filename ?? element.id}' is still being scanned for malware; try again shortly.`,
        dataElementId: element.id,
        field: element.dataType,
        source: 'dataTypes',
      });
    } else if (element.fileScanResult === 'Infected') {
      issues.push({
        severity: 'error',
        code: FILE_INFECTED,
        description: `The file '${element.filename ?? element.id}' contains malware; delete it and upload a clean file.`,
        dataElementId: element.id,
        field: element.dataType,
        source: 'dataTypes',
      });
    }
  }
  return issues;
}

/** Altinn's InstanceFileScanResult: the scan state of each scanned element of an instance, and of the instance as a whole. */
export interface InstanceFileScanResult {
  id: string;
  fileScanResult: FileScanResult;
  data: Array<{ id: string; fileScanResult: FileScanResult }>;
}

/**
 * The instance's files as scanning sees them (Altinn's FileScanController), for a client waiting on its uploads:
 * elements that are not scanned are left out; the whole is Infected if any file is, else Pending while any file
 * waits, else Clean once a file was scanned, else NotApplicable.
 */
export async function instanceFileScanResult(ctx: AppContext, caller: Caller, instanceId: string): Promise<InstanceFileScanResult> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  const data = instance.data
    .filter((element) => element.fileScanResult !== undefined && element.fileScanResult !== 'NotApplicable')
    .map((element) => ({ id: element.id, fileScanResult: element.fileScanResult as FileScanResult }));
  const states = new Set(data.map((element) => element.fileScanResult));
  const whole: FileScanResult = states.has('Infected') ? 'Infected' : states.has('Pending') ? 'Pending' : states.has('Clean') ? 'Clean' : 'NotApplicable';
  return { id: instance.id, fileScanResult: whole, data };
}
