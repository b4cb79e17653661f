import type { Command } from 'commander';
import { checkAppId, positiveInteger } from '../arguments';
import type { CliContext } from '../io';
import type { SessionFactory } from '../session';

interface TailOptions {
  app: string;
  after?: number;
  type?: string;
  subject?: string;
  count?: number;
  pollMs?: number;
}

const nonNegativeInteger = (value: string): number => (value === '0' ? 0 : positiveInteger(value));

/** `events tail`: follows an app's event feed, one line per event, until Ctrl-C (or --count events). */
export function addEventsCommands(program: Command, ctx: CliContext, session: SessionFactory): void {
  const events = program.command('events').description("the events service: follow an app's events");
  events
    .command('tail')
    .description("print an app's events in order as they happen (one JSON line each with --json); resume with --after <sequence>")
    .requiredOption('--app <org/app>', 'appId')
    .option('--after <sequence>', 'start after this sequence (default 0: from the beginning)', nonNegativeInteger)
    .option('--type <type>', 'only this event type, e.g. app.instance.process.completed')
    .option('--subject <subject>', 'only this subject, e.g. /party/50001')
    .option('--count <n>', 'stop after n events', positiveInteger)
    .option('--poll-ms <ms>', 'wait between polls when nothing is new (default 1000)', positiveInteger)
    .action(async (options: TailOptions, command: Command) => {
      const s = session(command);
      const client = await s.events();
      const stop = new AbortController();
      ctx.signal?.addEventListener('abort', () => stop.abort(), { once: true });
      let printed = 0;
      for await (const event of client.follow(checkAppId(options.app), {
        signal: stop.signal,
        ...(options.after !== undefined && { after: options.after }),
        ...(options.type && { type: options.type }),
        ...(options.subject && { subject: options.subject }),
        ...(options.pollMs && { pollMs: options.pollMs }),
      })) {
        ctx.stdout.write(s.json ? `${JSON.stringify(event)}\n` : `${event.sequence ?? '-'} ${event.time} ${event.type} ${event.subject} ${event.source}\n`);
        printed += 1;
        if (options.count !== undefined && printed >= options.count) break;
      }
    });
}
