/** Business rules of skd/tax-return: a flat 22 % tax on income minus deductions. */
import { RuleViolation, defineRules, type AppOption, type ValidationIssue } from '@forms/app-definition';

export const TAX_RATE = 0.22;
const FORM = 'model';

interface TaxReturn {
  taxYear?: number;
  income?: number;
  deductions?: Array<{ description?: string; kind?: string; amount?: number }>;
  taxableIncome?: number;
  tax?: number;
}

const totalDeductions = (form: TaxReturn) =>
  (Array.isArray(form.deductions) ? form.deductions : []).reduce((sum, deduction) => sum + (typeof deduction.amount === 'number' ? deduction.amount : 0), 0);

// Money in whole øre: avoids results like 2199.9999999999995.
const roundToOre = (amount: number) => Math.round(amount * 100) / 100;

/** The earliest year a return may be filed for (the schema's minimum). */
const FIRST_TAX_YEAR = 2000;
const DEFAULT_YEARS_BACK = 5;

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

  // Code lists made when asked for; deduction-kinds is a file (options/deduction-kinds.json).
  options(optionsId, ctx) {
    if (optionsId !== 'tax-years') return undefined;
    // The years a return can be filed for: from `from` (default five years back) up to last year, newest first.
    const lastYear = new Date().getFullYear() - 1;
    const from = ctx.query.from === undefined ? lastYear - DEFAULT_YEARS_BACK + 1 : Number(ctx.query.from);
    if (!Number.isInteger(from) || from < FIRST_TAX_YEAR || from > lastYear) {
      throw new RuleViolation('InvalidFromYear', `from must be a year from ${FIRST_TAX_YEAR} to ${lastYear}.`);
    }
    const options: AppOption[] = [];
    for (let year = lastYear; year >= from; year--) options.push({ value: year, label: String(year) });
    return { options, parameters: { from: String(from) } };
  },

  // The deductions of this return, to point at one (e.g. a receipt's deductionIndex): only those who may read it see them.
  instanceOptions(optionsId, ctx) {
    if (optionsId !== 'deductions') return undefined;
    const form = [...ctx.formData.values()].find((entry) => entry.dataType === FORM)?.data as TaxReturn | undefined;
    const deductions = Array.isArray(form?.deductions) ? form.deductions : [];
    return {
      options: deductions.map((deduction, index) => ({ value: index, label: `${deduction.description ?? ''} (${deduction.amount ?? 0})` })),
      ...(typeof form?.taxYear === 'number' && { parameters: { taxYear: String(form.taxYear) } }),
    };
  },

  onInstantiate(ctx) {
    // Party ids in the 9… range are test and synthetic parties, which may not file tax returns.
    if (ctx.instanceOwnerPartyId.startsWith('9')) {
      throw new RuleViolation('PartyNotAllowed', `Party ${ctx.instanceOwnerPartyId} may not file a tax return.`);
    }
  },
});
