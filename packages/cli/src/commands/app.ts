import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppDefinitionError, loadAppDefinition, type AppDefinition } from '@forms/app-definition';
import { DomainError } from '@forms/contracts';
import { userFolder, type CliContext } from '../io';

/** What `app check` tells of a valid app folder: what the app service will serve from it. */
export interface AppSummary {
  id: string;
  dataTypes: Array<{ id: string; kind: 'form' | 'attachment'; taskId?: string }>;
  tasks: Array<{ id: string; taskType: string }>;
  rules: string[];
  codeLists: Array<{ id: string; options: number }>;
}

export function summarise(definition: AppDefinition): AppSummary {
  return {
    id: definition.metadata.id,
    dataTypes: definition.metadata.dataTypes.map((type) => ({
      id: type.id,
      kind: definition.models.has(type.id) ? 'form' : 'attachment',
      ...(type.taskId !== undefined && { taskId: type.taskId }),
    })),
    tasks: [...definition.process.elements.values()].flatMap((element) => (element.kind === 'task' ? [{ id: element.id, taskType: element.taskType }] : [])),
    rules: Object.keys(definition.rules).sort(),
    codeLists: [...definition.codeLists].map(([id, options]) => ({ id, options: options.length })),
  };
}

/** `app check <folder>`: loads an app folder as the app service does at start-up, every problem at once. */
export function addAppCommands(program: Command, ctx: CliContext): void {
  const app = program.command('app').description('app folders (applicationmetadata.json, models, process, rules, texts, options)');
  app
    .command('check')
    .description('check an app folder as the app service does at start-up: every problem at once, or what it will serve')
    .argument('<folder>', 'the app folder, e.g. apps/skd/tax-return')
    .action(async (folder: string, _options: unknown, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      let definition: AppDefinition;
      try {
        definition = await loadAppDefinition(resolve(userFolder(ctx.env, ctx.cwd ?? process.cwd()), folder));
      } catch (error) {
        if (!(error instanceof AppDefinitionError)) throw error;
        // Exit code 2 with the problems listed (in the JSON error's `problems` with --json).
        throw new DomainError('invalid', 'INVALID_APP_FOLDER', `${folder}: ${error.problems.length} problem(s)`, { problems: error.problems });
      }
      const summary = summarise(definition);
      if (json) {
        ctx.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const lines = [
        `${summary.id}: valid`,
        `  data types: ${summary.dataTypes.map((type) => `${type.id} (${type.kind}${type.taskId ? `, ${type.taskId}` : ''})`).join(', ')}`,
        `  tasks: ${summary.tasks.map((task) => `${task.id} (${task.taskType})`).join(', ')}`,
        `  rules: ${summary.rules.join(', ') || 'none'}`,
        `  code lists: ${summary.codeLists.map((list) => `${list.id} (${list.options})`).join(', ') || 'none'}`,
      ];
      ctx.stdout.write(`${lines.join('\n')}\n`);
    });
}

