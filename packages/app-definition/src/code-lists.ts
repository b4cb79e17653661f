/**
 * Code lists (Altinn's "options"): the choices of a dropdown, radio or checkbox field, from `options/<id>.json` in the
 * app folder or from the rules' `options` / `instanceOptions` hooks. Read and checked at start-up; what a hook
 * returns is checked by the same rules when it is asked for.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppOption, AppOptions } from './api';
import { isRecord } from './field-path';

export const OPTIONS_FOLDER = 'options';
/** A code list's id: its file name without `.json`, and the last segment of its URL. */
export const OPTIONS_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
const OPTIONS_ID = new RegExp(OPTIONS_ID_PATTERN);
/** Enough for a list of every municipality or country; a longer list belongs behind a search, not in one answer. */
export const MAX_OPTIONS = 10_000;
const MAX_TEXT = 4_000;

const TEXT_MEMBERS = ['label', 'description', 'helpText'] as const;

/**
 * The problems of a code list (none: it is valid). Each option has a `value` (a string, a finite number or a boolean,
 * as Altinn's typed option values) and a `label` (plain text or a text resource key); `description` and `helpText`
 * are optional texts. Values are unique within a list: a stored value must name one choice.
 */
export function codeListProblems(list: unknown): string[] {
  if (!Array.isArray(list)) return ['must be a JSON array of {"value", "label"} options'];
  if (list.length > MAX_OPTIONS) return [`has ${list.length} options; at most ${MAX_OPTIONS}`];
  const problems: string[] = [];
  const seen = new Set<string>();
  list.forEach((option: unknown, index) => {
    const at = `option ${index}`;
    if (!isRecord(option)) {
      problems.push(`${at}: must be an object with value and label`);
      return;
    }
    const { value } = option;
    const typed = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!typed) problems.push(`${at}: value must be a string, a number or a boolean`);
    else {
      const key = `${typeof value}:${String(value)}`;
      if (seen.has(key)) problems.push(`${at}: value ${JSON.stringify(value)} is in the list twice`);
      seen.add(key);
    }
    if (typeof option.label !== 'string') problems.push(`${at}: label must be a string`);
    for (const member of TEXT_MEMBERS) {
      const text = option[member];
      if (text !== undefined && typeof text !== 'string') problems.push(`${at}: ${member} must be a string`);
      else if (typeof text === 'string' && text.length > MAX_TEXT) problems.push(`${at}: ${member} is longer than ${MAX_TEXT} characters`);
    }
    const unknown = Object.keys(option).filter((key) => key !== 'value' && !(TEXT_MEMBERS as readonly string[]).includes(key));
    if (unknown.length > 0) problems.push(`${at}: unknown member ${unknown.join(', ')} (known: value, ${TEXT_MEMBERS.join(', ')})`);
  });
  return problems;
}

/**
 * What an options hook answered, checked: a list, or `{ options, parameters }` (Altinn's AppOptions, whose
 * parameters go back to the caller in a header); `undefined` when the hook has no list by that id. A hook that
 * answers anything else is the app's fault: the error names the list and what is wrong with it.
 */
export function checkedHookOptions(optionsId: string, answer: unknown): AppOptions | undefined {
  if (answer === undefined || answer === null) return undefined;
  const { options, parameters } = Array.isArray(answer) ? { options: answer as unknown, parameters: undefined } : isRecord(answer) ? answer : { options: answer, parameters: undefined };
  const problems = [...codeListProblems(options)];
  const validParameters = parameters === undefined || (isRecord(parameters) && Object.values(parameters).every((value) => typeof value === 'string'));
  if (!validParameters) problems.push('parameters must map names to strings');
  if (problems.length > 0) throw new Error(`the rules' options for '${optionsId}' are not a valid code list: ${problems.slice(0, 5).join('; ')}`);
  return { options: options as AppOption[], ...(parameters !== undefined && { parameters: parameters as Record<string, string> }) };
}

/**
 * Reads `options/<id>.json` of the app folder. Files whose name is no valid id, that are not JSON, or whose list is
 * not valid are reported in `problems` (the app does not start with a code list it cannot serve).
 */
export async function readCodeLists(root: string, problems: string[]): Promise<ReadonlyMap<string, readonly AppOption[]>> {
  const folder = join(root, OPTIONS_FOLDER);
  const files = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    problems.push(`${OPTIONS_FOLDER}: cannot be read (${error.code ?? error.message})`);
    return [] as string[];
  });
  const lists = new Map<string, readonly AppOption[]>();
  for (const file of files.filter((name) => name.endsWith('.json')).sort()) {
    const label = `${OPTIONS_FOLDER}/${file}`;
    const id = file.slice(0, -'.json'.length);
    if (!OPTIONS_ID.test(id)) {
      problems.push(`${label}: '${id}' is not a valid code list id (letters, digits, '_', '-', '.'; at most 100)`);
      continue;
    }
    let list: unknown;
    try {
      list = JSON.parse(await readFile(join(folder, file), 'utf8')) as unknown;
    } catch (error) {
      problems.push(`${label}: not valid JSON: ${(error as Error).message}`);
      continue;
    }
    const found = codeListProblems(list);
    if (found.length > 0) problems.push(...found.map((problem) => `${label}: ${problem}`));
    else lists.set(id, list as AppOption[]);
  }
  return lists;
}
