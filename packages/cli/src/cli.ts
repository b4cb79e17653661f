import { Command, CommanderError } from 'commander';
import { isDomainError } from '@forms/contracts';
import { addAppCommands } from './commands/app';
import { addDataCommands } from './commands/data';
import { addEventsCommands } from './commands/events';
import { addInstanceCommands } from './commands/instances';
import { addLoginCommands } from './commands/login';
import { addSyncCommand } from './commands/sync';
import { ExitCode, UsageError } from './errors';
import type { CliContext } from './io';
import { DEFAULT_EVENTS_URL, DEFAULT_STORAGE_URL, Session, type GlobalOptions, type SessionFactory } from './session';

export { DEFAULT_AUTH_URL, DEFAULT_EVENTS_URL, DEFAULT_STORAGE_URL } from './session';

/**
 * Runs forms-cli with `argv` (the arguments after the program name) and returns the exit code: 0 ok, 1 usage,
 * 2 when the platform refused or failed (its problem code and detail on stderr) or a local write failed.
 */
export async function run(argv: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, ctx, argv.includes('--json'));
  }
}

/** The command tree: global options here, each command group in its own module under commands/. */
export function buildProgram(ctx: CliContext): Command {
  const session: SessionFactory = (command) => new Session(ctx, command.optsWithGlobals<GlobalOptions>());

  const program = new Command('forms-cli')
    .description('Command-line client of the forms platform: log in, query, create, upload, download and sync instances; check app folders.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => ctx.stdout.write(text), writeErr: (text) => ctx.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .option('--json', 'machine-readable output on stdout (one JSON document), errors as JSON on stderr, no progress')
    .option('--storage-url <url>', `storage API base URL (default: $FORMS_STORAGE_URL, the URL saved at login, or ${DEFAULT_STORAGE_URL})`)
    .option('--events-url <url>', `events API base URL (default: $FORMS_EVENTS_URL or ${DEFAULT_EVENTS_URL})`)
    .option('--token <token>', 'bearer token to use instead of the stored one (or $FORMS_TOKEN)');

  addLoginCommands(program, ctx, session);
  addInstanceCommands(program, ctx, session);
  addDataCommands(program, ctx, session);
  addSyncCommand(program, ctx, session);
  addEventsCommands(program, ctx, session);
  addAppCommands(program, ctx);
  return program;
}

function reportError(error: unknown, ctx: CliContext, json: boolean): number {
  // Commander has already printed its own message (or the help).
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  const code = error instanceof UsageError ? ExitCode.usage : ExitCode.failure;
  if (json) {
    const body = isDomainError(error)
      ? { kind: error.kind, code: error.code, detail: error.message, ...error.extensions }
      : { code: error instanceof UsageError ? 'USAGE' : 'ERROR', detail: (error as Error).message ?? String(error) };
    ctx.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return code;
  }
  if (isDomainError(error)) {
    ctx.stderr.write(`forms-cli: ${error.code}: ${error.message}\n`);
    const problems = error.extensions?.problems;
    if (Array.isArray(problems)) for (const problem of problems) ctx.stderr.write(`  ${String(problem)}\n`);
    const issues = error.extensions?.validationIssues;
    if (Array.isArray(issues)) {
      for (const issue of issues as Array<{ severity?: number; code?: string; field?: string; description?: string }>) {
        ctx.stderr.write(`  ${severityName(issue.severity)} ${issue.code ?? ''}${issue.field ? ` (${issue.field})` : ''}: ${issue.description ?? ''}\n`);
      }
    }
  } else {
    ctx.stderr.write(`forms-cli: ${(error as Error).message ?? String(error)}\n`);
  }
  return code;
}

/** Altinn's numeric severities (1 Error, 2 Warning, 3 Informational, 4 Fixed, 5 Success) in words. */
function severityName(severity: number | undefined): string {
  return ['error', 'error', 'warning', 'info', 'fixed', 'success'][severity ?? 1] ?? 'error';
}
