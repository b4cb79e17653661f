/** Business rules of skd/tax-return: a flat 22 % tax on income minus deductions. */
import { RuleViolation, defineRules, type ValidationIssue } from '@forms/app-definition';

export const TAX_RATE = 0.22;
const FORM = 'model';

interface TaxReturn {
  income?: number;
  deductions?: Array<{ description?: string; amount?: number }>;
  taxableIncome?: number;
  tax?: number;
}

const totalDeductions = (form: TaxReturn) =>
  (Array.isArray(form.deductions) ? form.deductions : []).reduce((sum, deduction) => sum + (typeof deduction.amount === 'number' ? deduction.amount : 0), 0);

// Money in whole øre: avoids results like 2199.9999999999995.
const roundToOre = (amount: number) => Math.round(amount * 100) / 100;

export default defineRules({
  calculate(dataType, data) {
    if (dataType !== FORM) return;
    const form = data as TaxReturn;
    const income = typeof form.income === 'number' ? form.income : 0;
    form.taxableIncome = roundToOre(Math.max(0, income - totalDeductions(form)));
    form.tax = roundToOre(form.taxableIncome * TAX_RATE);
  },

  validate(ctx) {
    const issues: ValidationIssue[] = [];
    for (const [dataElementId, { dataType, data }] of ctx.formData) {
      if (dataType !== FORM) continue;
      const form = (data ?? {}) as TaxReturn;
      const deductions = totalDeductions(form);
      if (typeof form.income === 'number' && deductions > form.income) {
        issues.push({
          severity: 'error',
          code: 'DeductionsExceedIncome',
          field: 'deductions',
          description: `Deductions (${deductions}) cannot exceed the income (${form.income}).`,
          dataElementId,
          source: 'rules',
        });
      }
    }
    return issues;
  },

  onInstantiate(ctx) {
    // Party ids in the 9… range are test and synthetic parties, which may not file tax returns.
    if (ctx.instanceOwnerPartyId.startsWith('9')) {
      throw new RuleViolation('PartyNotAllowed', `Party ${ctx.instanceOwnerPartyId} may not file a tax return.`);
    }
  },
});
