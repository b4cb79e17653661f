import type { ValidationIssue } from '@forms/app-definition';

/** Altinn's ValidationIssueSeverity: rules speak in words, the wire in these numbers. */
export const SEVERITY = { error: 1, warning: 2, info: 3, fixed: 4, success: 5 } as const;

/** A validation issue as Altinn's API sends it (ValidationIssueWithSource). */
export interface AltinnValidationIssue extends Omit<ValidationIssue, 'severity' | 'source'> {
  severity: number;
  source: string;
}

export const toAltinnIssues = (issues: readonly ValidationIssue[]): AltinnValidationIssue[] =>
  issues.map((issue) => ({ ...issue, severity: SEVERITY[issue.severity] }));

/** Issues grouped by who found them (Altinn's ValidationSourcePair list). */
export function issuesBySource(issues: readonly ValidationIssue[]): Array<{ source: string; issues: AltinnValidationIssue[] }> {
  const groups = new Map<string, AltinnValidationIssue[]>();
  for (const issue of toAltinnIssues(issues)) groups.set(issue.source, [...(groups.get(issue.source) ?? []), issue]);
  return [...groups].map(([source, grouped]) => ({ source, issues: grouped }));
}
