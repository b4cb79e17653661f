/** Loads an app folder and checks it as a whole, reporting every problem at once. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AppDefinitionError, type AppDefinition, type FormModel, type ProcessDefinition } from './api';
import { PROCESS_BPMN_FILE, readProcessBpmn } from './bpmn';
import { METADATA_FILE, checkMetadata } from './metadata';
import { buildFormModel } from './models';
import { checkProcess } from './process';
import { PROCESS_JSON_FILE, readProcessJson } from './process-json';
import { loadRules } from './rules';
import { readCodeLists } from './code-lists';
import { checkSigningTasks } from './signing';

export async function loadAppDefinition(folder: string): Promise<AppDefinition> {
  const root = resolve(folder);
  const problems: string[] = [];

  const rawMetadata = await readJsonFile(root, METADATA_FILE, problems);
  const metadataCheck = rawMetadata === undefined ? { problems: [] } : checkMetadata(rawMetadata);
  problems.push(...metadataCheck.problems);
  const metadata = metadataCheck.metadata;
  const dataTypes = metadata?.dataTypes ?? [];

  const models = new Map<string, FormModel>();
  // Data types with a schemaRef count as form data even when their schema is broken, to avoid follow-up noise.
  const formDataTypes = new Set<string>();
  for (const dataType of dataTypes) {
    const schemaRef = dataType.appLogic?.schemaRef;
    if (schemaRef === undefined) continue;
    formDataTypes.add(dataType.id);
    const schemaPath = resolve(root, schemaRef);
    const inside = relative(root, schemaPath);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      problems.push(`${METADATA_FILE}: data type ${dataType.id}: schemaRef ${schemaRef} points outside the app folder`);
      continue;
    }
    if (!existsSync(schemaPath)) {
      problems.push(`${METADATA_FILE}: data type ${dataType.id}: schemaRef ${schemaRef} does not exist`);
      continue;
    }
    const schema = await readJsonFile(root, inside, problems);
    if (schema === undefined) continue;
    const built = buildFormModel(dataType.id, schema, schemaRef);
    if (built.model) models.set(dataType.id, built.model);
    else problems.push(...built.problems);
  }

  const process = await readProcess(root, formDataTypes, problems);
  if (process) problems.push(...checkSigningTasks(process, dataTypes, existsSync(join(root, PROCESS_JSON_FILE)) ? PROCESS_JSON_FILE : PROCESS_BPMN_FILE));
  if (process) {
    for (const dataType of dataTypes) {
      if (dataType.taskId !== undefined && process.elements.get(dataType.taskId)?.kind !== 'task') {
        problems.push(`${METADATA_FILE}: data type ${dataType.id}: taskId ${dataType.taskId} is not a task of the process`);
      }
    }
  }

  const { rules, problems: ruleProblems } = loadRules(root);
  problems.push(...ruleProblems);
  const codeLists = await readCodeLists(root, problems);

  if (problems.length > 0 || !metadata || !process) throw new AppDefinitionError(folder, problems);
  const [org, app] = metadata.id.split('/') as [string, string];
  return { folder: root, metadata, org, app, models, process, rules, codeLists };
}

async function readProcess(root: string, formDataTypes: ReadonlySet<string>, problems: string[]): Promise<ProcessDefinition | undefined> {
  const hasJson = existsSync(join(root, PROCESS_JSON_FILE));
  const hasBpmn = existsSync(join(root, PROCESS_BPMN_FILE));
  if (hasJson && hasBpmn) {
    problems.push(`${PROCESS_JSON_FILE} and ${PROCESS_BPMN_FILE} both exist; keep one`);
    return undefined;
  }
  if (!hasJson && !hasBpmn) {
    problems.push(`no process: add ${PROCESS_JSON_FILE} or ${PROCESS_BPMN_FILE}`);
    return undefined;
  }
  let read: { definition?: ProcessDefinition; problems: string[] };
  let label: string;
  if (hasJson) {
    label = PROCESS_JSON_FILE;
    const raw = await readJsonFile(root, PROCESS_JSON_FILE, problems);
    if (raw === undefined) return undefined;
    read = readProcessJson(raw);
  } else {
    label = PROCESS_BPMN_FILE;
    read = readProcessBpmn(await readFile(join(root, PROCESS_BPMN_FILE), 'utf8'), formDataTypes);
  }
  problems.push(...read.problems);
  if (!read.definition) return undefined;
  problems.push(...checkProcess(read.definition, label, formDataTypes));
  return read.definition;
}

async function readJsonFile(root: string, file: string, problems: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(root, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(code === 'ENOENT' ? `${file}: missing` : `${file}: cannot be read (${code ?? (error as Error).message})`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`${file}: not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
}
