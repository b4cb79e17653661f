import { RuleViolation, loadAppDefinition, type AppRules } from '../src';
import { CHILD_BENEFIT, TAX_RETURN, dataElement, ruleContext, validationContext } from './support/fixtures';

const YEAR = new Date().getFullYear();

describe('nav/child-benefit rules', () => {
  let rules: AppRules;
  beforeAll(async () => {
    rules = (await loadAppDefinition(CHILD_BENEFIT)).rules;
  });
  const ctx = ruleContext('nav/child-benefit');

  it('calculates the number of children and 1766 per child under 18', async () => {
    const form: Record<string, unknown> = {
      applicant: { name: 'Kari', personNumber: '01017012345', monthlyIncome: 40000 },
      children: [
        { name: 'Baby', birthYear: YEAR },
        { name: 'Teen', birthYear: YEAR - 17 },
        { name: 'Adult', birthYear: YEAR - 18 },
      ],
    };
    // The hook changes the data in place (returning nothing), which the contract allows.
    expect(await rules.calculate?.('model', form, ctx)).toBeUndefined();
    expect(form).toMatchObject({ numberOfChildren: 3, monthlyBenefit: 2 * 1766 });
    const empty: Record<string, unknown> = {};
    await rules.calculate?.('model', empty, ctx);
    expect(empty).toEqual({ numberOfChildren: 0, monthlyBenefit: 0 });
  });

  it('leaves other data types alone', async () => {
    const other: Record<string, unknown> = { a: 1 };
    await rules.calculate?.('proof', other, ctx);
    expect(other).toEqual({ a: 1 });
  });

  it('needs at least one child and refuses birth years in the future', async () => {
    const noChildren = await rules.validate?.(validationContext('nav/child-benefit', { applicant: { name: 'K', monthlyIncome: 1 }, children: [] }));
    expect(noChildren).toEqual([expect.objectContaining({ code: 'NoChildren', field: 'children', severity: 'error', source: 'rules', dataElementId: 'form-1' })]);

    const future = await rules.validate?.(
      validationContext('nav/child-benefit', {
        applicant: { name: 'K', monthlyIncome: 1 },
        children: [
          { name: 'A', birthYear: YEAR },
          { name: 'B', birthYear: YEAR + 1 },
        ],
      }),
    );
    expect(future).toEqual([expect.objectContaining({ code: 'BirthYearInFuture', field: 'children[1].birthYear', severity: 'error' })]);
  });

  it('warns when the income is missing', async () => {
    const issues = await rules.validate?.(validationContext('nav/child-benefit', { applicant: { name: 'K' }, children: [{ name: 'A', birthYear: 2015 }] }));
    expect(issues).toEqual([expect.objectContaining({ code: 'IncomeMissing', severity: 'warning', field: 'applicant.monthlyIncome' })]);
  });

  it('requires a proof attachment when the monthly income is above 50 000', async () => {
    const form = { applicant: { name: 'K', monthlyIncome: 50001 }, children: [{ name: 'A', birthYear: 2015 }] };
    expect(await rules.validate?.(validationContext('nav/child-benefit', form))).toEqual([
      expect.objectContaining({ code: 'ProofRequired', severity: 'error' }),
    ]);
    expect(await rules.validate?.(validationContext('nav/child-benefit', form, [dataElement('proof', 1)]))).toEqual([]);
    const atLimit = { ...form, applicant: { name: 'K', monthlyIncome: 50000 } };
    expect(await rules.validate?.(validationContext('nav/child-benefit', atLimit))).toEqual([]);
  });

  it('prefills the applicant name', async () => {
    expect(await rules.prefill?.('model', ctx)).toMatchObject({ applicant: { name: 'Ola Nordmann' } });
  });
});

describe('skd/tax-return rules', () => {
  let rules: AppRules;
  beforeAll(async () => {
    rules = (await loadAppDefinition(TAX_RETURN)).rules;
  });
  const ctx = ruleContext('skd/tax-return');

  it('calculates the taxable income and a flat 22 % tax', async () => {
    const form: Record<string, unknown> = {
      income: 600000,
      deductions: [
        { description: 'Union fee', amount: 3900 },
        { description: 'Travel', amount: 10000.5 },
      ],
    };
    await rules.calculate?.('model', form, ctx);
    expect(form).toMatchObject({ taxableIncome: 586099.5, tax: 128941.89 });
  });

  it('never calculates a negative tax', async () => {
    const form: Record<string, unknown> = { income: 100, deductions: [{ description: 'Big', amount: 1000 }] };
    await rules.calculate?.('model', form, ctx);
    expect(form).toMatchObject({ taxableIncome: 0, tax: 0 });
  });

  it('refuses deductions above the income', async () => {
    const over = await rules.validate?.(validationContext('skd/tax-return', { income: 100, deductions: [{ description: 'x', amount: 60 }, { description: 'y', amount: 41 }] }));
    expect(over).toEqual([expect.objectContaining({ code: 'DeductionsExceedIncome', field: 'deductions', severity: 'error', source: 'rules' })]);
    expect(await rules.validate?.(validationContext('skd/tax-return', { income: 100, deductions: [{ description: 'x', amount: 100 }] }))).toEqual([]);
  });

  it('rejects negative values through the schema', async () => {
    const model = (await loadAppDefinition(TAX_RETURN)).models.get('model');
    expect(model?.validate({ income: -1, deductions: [{ description: 'x', amount: -2 }] })).toEqual([
      expect.objectContaining({ field: 'income', code: 'minimum' }),
      expect.objectContaining({ field: 'deductions[0].amount', code: 'minimum' }),
    ]);
  });

  it('refuses instances for party ids starting with 9', async () => {
    await expect(Promise.resolve().then(() => rules.onInstantiate?.(ruleContext('skd/tax-return', '912345')))).rejects.toEqual(
      expect.objectContaining({ name: 'RuleViolation', code: 'PartyNotAllowed' }),
    );
    await expect(Promise.resolve().then(() => rules.onInstantiate?.(ruleContext('skd/tax-return', '912345')))).rejects.toBeInstanceOf(RuleViolation);
    await expect(Promise.resolve().then(() => rules.onInstantiate?.(ruleContext('skd/tax-return', '50001')))).resolves.toBeUndefined();
  });

  it('makes the tax-years list from `from` (default five years back) to last year, and refuses a year out of range', async () => {
    const options = { appId: 'skd/tax-return', language: 'nb' };
    expect(await rules.options?.('tax-years', { ...options, query: {} })).toEqual({
      options: [1, 2, 3, 4, 5].map((back) => ({ value: YEAR - back, label: String(YEAR - back) })),
      parameters: { from: String(YEAR - 5) },
    });
    expect(await rules.options?.('tax-years', { ...options, query: { from: String(YEAR - 2) } })).toMatchObject({ options: [{ value: YEAR - 1 }, { value: YEAR - 2 }] });
    for (const from of ['1999', String(YEAR), 'last']) {
      await expect(Promise.resolve().then(() => rules.options?.('tax-years', { ...options, query: { from } }))).rejects.toMatchObject({ code: 'InvalidFromYear' });
    }
    // Other ids are not this hook's: the app's files answer for them.
    expect(await rules.options?.('deduction-kinds', { ...options, query: {} })).toBeUndefined();
  });

  it("lists the return's deductions by index for its readers, with the tax year as a parameter", async () => {
    const form = { taxYear: 2025, income: 1000, deductions: [{ description: 'Union fee', amount: 3900 }, { description: 'Travel', amount: 100 }] };
    const ctx = { ...validationContext('skd/tax-return', form), language: 'nb', query: {} };
    expect(await rules.instanceOptions?.('deductions', ctx)).toEqual({
      options: [
        { value: 0, label: 'Union fee (3900)' },
        { value: 1, label: 'Travel (100)' },
      ],
      parameters: { taxYear: '2025' },
    });
    expect(await rules.instanceOptions?.('deductions', { ...validationContext('skd/tax-return', {}), language: 'nb', query: {} })).toEqual({ options: [] });
    expect(await rules.instanceOptions?.('other', ctx)).toBeUndefined();
  });
});
