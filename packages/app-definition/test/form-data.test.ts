import { DomainError } from '@forms/contracts';
import { loadAppDefinition, parseFormData, serializeFormData, type FormModel } from '../src';
import { buildFormModel } from '../src/models';
import { CHILD_BENEFIT, TAX_RETURN } from './support/fixtures';

let childBenefit: FormModel;
let taxReturn: FormModel;
beforeAll(async () => {
  childBenefit = (await loadAppDefinition(CHILD_BENEFIT)).models.get('model') as FormModel;
  taxReturn = (await loadAppDefinition(TAX_RETURN)).models.get('model') as FormModel;
});

const failureOf = (action: () => unknown): DomainError => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
};

describe('parseFormData (XML)', () => {
  it('types values by the schema: numbers, integers, nested objects and repeated elements as arrays', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ChildBenefit xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <applicant kind="ignored">
    <name>Kari &amp; Ola &#x263A; &lt;3</name>
    <personNumber>01017012345</personNumber>
    <monthlyIncome>48000.50</monthlyIncome>
  </applicant>
  <children><name>Per</name><birthYear>2016</birthYear></children>
  <children><name><![CDATA[<Pål> & co]]></name><birthYear> 2019 </birthYear></children>
  <numberOfChildren>2</numberOfChildren>
</ChildBenefit>`;
    expect(parseFormData(xml, 'xml', childBenefit)).toEqual({
      applicant: { name: 'Kari & Ola ☺ <3', personNumber: '01017012345', monthlyIncome: 48000.5 },
      children: [
        { name: 'Per', birthYear: 2016 },
        { name: '<Pål> & co', birthYear: 2019 },
      ],
      numberOfChildren: 2,
    });
  });

  it('makes a single element an array when the schema says array, and keeps digit strings as strings', () => {
    const xml = '<ChildBenefit><applicant><name>A</name><personNumber>00000000001</personNumber></applicant><children><name>B</name><birthYear>2020</birthYear></children></ChildBenefit>';
    expect(parseFormData(xml, 'xml', childBenefit)).toEqual({
      applicant: { name: 'A', personNumber: '00000000001' },
      children: [{ name: 'B', birthYear: 2020 }],
    });
  });

  it('reads booleans, leaves empty non-string elements out and keeps unparsable numbers for validation to report', () => {
    const xml = '<TaxReturn><income>abc</income><taxYear></taxYear><confirmedCorrect>true</confirmedCorrect><deductions><description></description><amount>-5</amount></deductions></TaxReturn>';
    const data = parseFormData(xml, 'xml', taxReturn);
    expect(data).toEqual({ income: 'abc', confirmedCorrect: true, deductions: [{ description: '', amount: -5 }] });
    expect(taxReturn.validate(data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'income', code: 'type' }),
        expect.objectContaining({ field: 'deductions[0].amount', code: 'minimum' }),
        expect.objectContaining({ field: 'deductions[0].description', code: 'minLength' }),
      ]),
    );
  });

  it('reads an empty root as an empty form', () => {
    expect(parseFormData('<TaxReturn/>', 'xml', taxReturn)).toEqual({});
    expect(parseFormData('<TaxReturn>\n</TaxReturn>', 'xml', taxReturn)).toEqual({});
  });

  it('refuses the billion laughs attack before parsing', () => {
    const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<TaxReturn><income>&lol9;</income></TaxReturn>`;
    expect(failureOf(() => parseFormData(billionLaughs, 'xml', taxReturn))).toMatchObject({ kind: 'invalid', code: 'XML_DTD_FORBIDDEN' });
  });

  it('refuses an external entity (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><TaxReturn><income>&xxe;</income></TaxReturn>';
    expect(failureOf(() => parseFormData(xxe, 'xml', taxReturn))).toMatchObject({ kind: 'invalid', code: 'XML_DTD_FORBIDDEN' });
    const lowerCase = '<!doctype TaxReturn SYSTEM "http://evil.example/x.dtd"><TaxReturn/>';
    expect(failureOf(() => parseFormData(lowerCase, 'xml', taxReturn)).code).toBe('XML_DTD_FORBIDDEN');
  });

  it.each([
    ['an unclosed element', '<TaxReturn><income>1</TaxReturn>'],
    ['text only', 'not xml at all'],
    ['an empty body', ''],
    ['two root elements', '<TaxReturn/><TaxReturn/>'],
    ['an undefined entity', '<TaxReturn><income>&nope;</income></TaxReturn>'],
    ['a bare ampersand', '<TaxReturn><income>1 & 2</income></TaxReturn>'],
  ])('refuses malformed XML: %s', (_case, xml) => {
    expect(failureOf(() => parseFormData(xml, 'xml', taxReturn))).toMatchObject({ kind: 'invalid', code: 'MALFORMED_XML' });
  });

  it('refuses a root element other than the model’s', () => {
    const error = failureOf(() => parseFormData('<ChildBenefit/>', 'xml', taxReturn));
    expect(error).toMatchObject({ kind: 'invalid', code: 'XML_ROOT_MISMATCH' });
    expect(error.message).toContain('<TaxReturn>');
  });
});

describe('parseFormData (JSON)', () => {
  it('parses JSON and refuses malformed JSON', () => {
    expect(parseFormData('{"income": 5}', 'json', taxReturn)).toEqual({ income: 5 });
    expect(failureOf(() => parseFormData('{"income": ', 'json', taxReturn))).toMatchObject({ kind: 'invalid', code: 'MALFORMED_JSON' });
  });
});

describe('serializeFormData', () => {
  const form = {
    applicant: { name: 'Kari <&> "Nordmann"', personNumber: '01017012345', monthlyIncome: 61000.25 },
    children: [
      { name: 'Per', birthYear: 2016 },
      { name: ' Pål ', birthYear: 2019 },
    ],
    numberOfChildren: 2,
    monthlyBenefit: 3532,
  };

  it('writes XML with a declaration and the root element, and reads it back unchanged', () => {
    const xml = serializeFormData(form, 'xml', childBenefit);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ChildBenefit>')).toBe(true);
    expect(xml).toContain('<name>Kari &lt;&amp;&gt; &quot;Nordmann&quot;</name>');
    expect(parseFormData(xml, 'xml', childBenefit)).toEqual(form);
  });

  it('round-trips a single-element array, booleans and empty strings, and leaves out nulls', () => {
    const data = { income: 500000, deductions: [{ description: '', amount: 0 }], confirmedCorrect: false, tax: null };
    const xml = serializeFormData(data, 'xml', taxReturn);
    expect(xml).not.toContain('<tax>');
    expect(parseFormData(xml, 'xml', taxReturn)).toEqual({ income: 500000, deductions: [{ description: '', amount: 0 }], confirmedCorrect: false });
  });

  it('round-trips JSON and refuses non-object form data as XML', () => {
    expect(parseFormData(serializeFormData(form, 'json', childBenefit), 'json', childBenefit)).toEqual(form);
    expect(failureOf(() => serializeFormData([1, 2], 'xml', childBenefit)).kind).toBe('invalid');
  });
});

describe('FormModel.validate', () => {
  it('accepts a valid form', () => {
    expect(childBenefit.validate({ applicant: { name: 'A', personNumber: '01017012345' }, children: [] })).toEqual([]);
  });

  it('reports dotted field paths, the missing property for `required`, and the ajv keyword as code', () => {
    const issues = childBenefit.validate({
      applicant: { name: '', personNumber: '123', monthlyIncome: -1 },
      children: [{ name: 'Per', birthYear: 2016 }, { birthYear: 'soon' }],
      extra: true,
    });
    const byField = Object.fromEntries(issues.map((issue) => [issue.field ?? '', issue.code]));
    expect(byField).toEqual({
      'applicant.name': 'minLength',
      'applicant.personNumber': 'pattern',
      'applicant.monthlyIncome': 'minimum',
      'children[1].name': 'required',
      'children[1].birthYear': 'type',
      extra: 'additionalProperties',
    });
    for (const issue of issues) expect(issue).toMatchObject({ severity: 'error', source: 'schema' });
    expect(issues.find((issue) => issue.code === 'required')?.description).toBe('children[1].name is required');
  });

  it('reports a missing root property and a non-object form without a field', () => {
    expect(taxReturn.validate({})).toEqual([{ severity: 'error', code: 'required', field: 'income', description: 'income is required', source: 'schema' }]);
    const [issue, ...rest] = taxReturn.validate('text');
    expect(rest).toEqual([]);
    expect(issue).toEqual({ severity: 'error', code: 'type', description: 'the form data must be object', source: 'schema' });
  });

  it('quotes keys that are not identifiers and supports draft-07 definitions', () => {
    const built = buildFormModel(
      'odd',
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        'x-xml-root': 'Odd',
        type: 'object',
        properties: { 'a.b': { $ref: '#/definitions/positive' } },
        definitions: { positive: { type: 'number', exclusiveMinimum: 0 } },
      },
      'odd.schema.json',
    );
    expect(built.problems).toEqual([]);
    expect(built.model?.validate({ 'a.b': 0 })).toEqual([expect.objectContaining({ field: '["a.b"]', code: 'exclusiveMinimum' })]);
  });
});
