/** Business rules of nav/child-benefit. */
import { defineRules, type ValidationIssue } from '@forms/app-definition';

export const BENEFIT_PER_CHILD = 1766;
export const INCOME_NEEDING_PROOF = 50_000;
const FORM = 'model';

interface Child {
  name?: string;
  birthYear?: number;
}
interface ChildBenefit {
  applicant?: { name?: string; personNumber?: string; monthlyIncome?: number };
  children?: Child[];
  numberOfChildren?: number;
  monthlyBenefit?: number;
}

// Read at call time, so a long-running service moves into the new year with everyone else.
const currentYear = () => new Date().getFullYear();
const isUnder18 = (child: Child, year: number) => typeof child.birthYear === 'number' && child.birthYear <= year && year - child.birthYear < 18;

function calculateBenefit(dataType: string, data: Record<string, unknown>): void {
  if (dataType !== FORM) return;
  const form = data as ChildBenefit;
  const children = Array.isArray(form.children) ? form.children : [];
  const year = currentYear();
  form.numberOfChildren = children.length;
  form.monthlyBenefit = BENEFIT_PER_CHILD * children.filter((child) => isUnder18(child, year)).length;
}

export default defineRules({
  calculate: calculateBenefit,

  // Children grow older: a form saved last year shows this year's benefit when read.
  read: calculateBenefit,

  validate(ctx) {
    const issues: ValidationIssue[] = [];
    const year = currentYear();
    const proofCount = ctx.instance.data.filter((element) => element.dataType === 'proof').length;
    for (const [dataElementId, { dataType, data }] of ctx.formData) {
      if (dataType !== FORM) continue;
      const form = (data ?? {}) as ChildBenefit;
      const children = Array.isArray(form.children) ? form.children : [];
      if (children.length === 0) {
        issues.push({ severity: 'error', code: 'NoChildren', field: 'children', description: 'Add at least one child.', dataElementId, source: 'rules' });
      }
      children.forEach((child, index) => {
        if (typeof child.birthYear === 'number' && child.birthYear > year) {
          issues.push({
            severity: 'error',
            code: 'BirthYearInFuture',
            field: `children[${index}].birthYear`,
            description: `Birth year ${child.birthYear} is in the future.`,
            dataElementId,
            source: 'rules',
          });
        }
      });
      const income = form.applicant?.monthlyIncome;
      if (income === undefined || income === null) {
        issues.push({
          severity: 'warning',
          code: 'IncomeMissing',
          field: 'applicant.monthlyIncome',
          description: 'The monthly income is missing; the application may take longer to process.',
          dataElementId,
          source: 'rules',
        });
      } else if (income > INCOME_NEEDING_PROOF && proofCount < 1) {
        issues.push({
          severity: 'error',
          code: 'ProofRequired',
          field: 'applicant.monthlyIncome',
          description: `A monthly income above ${INCOME_NEEDING_PROOF} needs at least one proof attachment.`,
          dataElementId,
          source: 'rules',
        });
      }
    }
    return issues;
  },

  prefill(dataType) {
    if (dataType !== FORM) return {};
    // A sample register lookup: a real app would ask the population register for the party's name.
    return { applicant: { name: 'Ola Nordmann' }, children: [] };
  },
});
