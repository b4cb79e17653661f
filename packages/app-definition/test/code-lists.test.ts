import { checkedHookOptions, loadAppDefinition, MAX_OPTIONS } from '../src';
import { TAX_RETURN, containing, minimalApp, problemsOf, removeTempApps, writeApp } from './support/fixtures';

afterAll(removeTempApps);

describe('code list files (options/<id>.json)', () => {
  it('loads the lists of skd/tax-return by file name, with their texts as they are', async () => {
    const { codeLists } = await loadAppDefinition(TAX_RETURN);
    expect([...codeLists.keys()]).toEqual(['deduction-kinds']);
    expect(codeLists.get('deduction-kinds')).toContainEqual({ value: 'travel', label: 'deductionKind.travel', helpText: 'deductionKind.travel.help' });
  });

  it('an app without an options folder has none', async () => {
    expect((await loadAppDefinition(writeApp(minimalApp()))).codeLists.size).toBe(0);
  });

  it('keeps typed values and leaves other files of the folder alone', async () => {
    const folder = writeApp(
      minimalApp({
        'options/answers.json': [
          { value: true, label: 'Yes', description: 'Agrees' },
          { value: false, label: 'No' },
          { value: 0, label: 'Zero' },
          { value: '0', label: 'Zero as text' },
        ],
        'options/README.md': 'not a list',
      }),
    );
    expect((await loadAppDefinition(folder)).codeLists.get('answers')).toEqual([
      { value: true, label: 'Yes', description: 'Agrees' },
      { value: false, label: 'No' },
      { value: 0, label: 'Zero' },
      { value: '0', label: 'Zero as text' },
    ]);
  });

  it('reports every broken list at once, by file and option', async () => {
    const problems = await problemsOf(
      writeApp(
        minimalApp({
          'options/not-a-list.json': { value: 'a', label: 'A' },
          'options/bad-options.json': [
            { value: 'a', label: 'A' },
            { value: 'a', label: 'A again' },
            { label: 'no value' },
            { value: { nested: true }, label: 'object value' },
            { value: 'b', label: 7 },
            { value: 'c', label: 'C', helpText: 1, colour: 'red' },
            'just text',
          ],
          'options/broken.json': '[{"value": ',
          'options/white space.json': [],
          [`options/long.json`]: Array.from({ length: MAX_OPTIONS + 1 }, (_, index) => ({ value: index, label: String(index) })),
        }),
      ),
    );
    expect(problems).toEqual(
      containing(
        'options/not-a-list.json: must be a JSON array',
        'options/bad-options.json: option 1: value "a" is in the list twice',
        'options/bad-options.json: option 2: value must be a string, a number or a boolean',
        'options/bad-options.json: option 3: value must be a string, a number or a boolean',
        'options/bad-options.json: option 4: label must be a string',
        'options/bad-options.json: option 5: helpText must be a string',
        'options/bad-options.json: option 5: unknown member colour',
        'options/bad-options.json: option 6: must be an object',
        'options/broken.json: not valid JSON',
        "options/white space.json: 'white space' is not a valid code list id",
        `options/long.json: has ${MAX_OPTIONS + 1} options; at most ${MAX_OPTIONS}`,
      ),
    );
  });
});

describe('what an options hook answers', () => {
  it('takes a list or { options, parameters }, and says nothing for undefined', () => {
    expect(checkedHookOptions('x', [{ value: 1, label: 'One' }])).toEqual({ options: [{ value: 1, label: 'One' }] });
    expect(checkedHookOptions('x', { options: [{ value: 'a', label: 'A' }], parameters: { from: '2020' } })).toEqual({
      options: [{ value: 'a', label: 'A' }],
      parameters: { from: '2020' },
    });
    expect(checkedHookOptions('x', undefined)).toBeUndefined();
  });

  it('refuses what is no code list, naming the list', () => {
    expect(() => checkedHookOptions('years', 'nope')).toThrow("the rules' options for 'years' are not a valid code list: must be a JSON array");
    expect(() => checkedHookOptions('years', { options: [{ value: 1 }] })).toThrow('option 0: label must be a string');
    // As strict as a file: a member the API does not know is a mistake to show, not to pass on.
    expect(() => checkedHookOptions('years', [{ value: 1, label: 'One', internal: 'hidden' }])).toThrow('option 0: unknown member internal');
    expect(() => checkedHookOptions('years', { options: [], parameters: { from: 2020 } })).toThrow('parameters must map names to strings');
  });
});
