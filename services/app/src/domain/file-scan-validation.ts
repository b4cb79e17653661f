import type { ValidationIssue } from '@forms/app-definition';
import type { Instance } from '@forms/contracts';

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
