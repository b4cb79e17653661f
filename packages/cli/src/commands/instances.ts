import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { DataPart, InstanceQuery, InstanceTemplate } from '@forms/client';
import type { Instance } from '@forms/contracts';
import { checkAppId, checkInstanceId, collect, describeState, fileSize, positiveInteger } from '../arguments';
import { contentTypeOf } from '../content-type';
import { UsageError } from '../errors';
import type { CliContext } from '../io';
import type { SessionFactory } from '../session';
import { scanNote } from '../scan-status';

interface ListOptions {
  app?: string;
  org?: string;
  party?: string;
  task?: string;
  complete?: boolean;
  endEvent?: string;
  lastChanged?: string[];
  created?: string[];
  dueBefore?: string[];
  visibleAfter?: string[];
  excludeConfirmedBy?: string;
  size?: number;
  continuationToken?: string;
  all?: boolean;
}

interface CreateOptions {
  app: string;
  appUrl?: string;
  party?: string;
  data?: string[];
  template?: string;
  copyFrom?: string;
}

/** What `instances create` says of the instance it made, one line for it and one per data element. */
const createdLines = (instance: Instance, how = '') => [
  `Created ${instance.id}${how} (${describeState(instance)})`,
  ...instance.data.map((d) => `  ${d.dataType}  ${d.id}  ${d.size} bytes${scanNote(d)}`),
];

/** Said (on stderr, so stdout stays one line per instance) when a query finds nothing. */
const NO_INSTANCES = 'no instances';

const instanceLine = (instance: Instance) => `${instance.id}  ${instance.appId}  ${describeState(instance)}  ${instance.lastChanged}`;

/** `instances list` (a storage query) and `instances create` (through the app). */
export function addInstanceCommands(program: Command, ctx: CliContext, session: SessionFactory): void {
  const instances = program.command('instances').description('query and create instances');

  instances
    .command('list')
    .description('query instances in storage (orgs: of their apps; parties: their own)')
    .option('--app <org/app>', 'appId')
    .option('--org <org>', 'org of the app')
    .option('--party <partyId>', 'instanceOwner.partyId')
    .option('--task <taskId>', 'process.currentTask')
    .option('--complete', 'only instances whose process has ended')
    .option('--no-complete', 'only instances whose process has not ended')
    .option('--end-event <id>', 'process.endEvent')
    .option('--last-changed <op:iso>', 'e.g. gt:2024-05-01T00:00:00Z (repeatable)', collect)
    .option('--created <op:iso>', 'created filter (repeatable)', collect)
    .option('--due-before <op:iso>', 'dueBefore filter (repeatable)', collect)
    .option('--visible-after <op:iso>', 'visibleAfter filter (repeatable)', collect)
    .option('--exclude-confirmed-by <org>', 'leave out instances this org has confirmed')
    .option('--size <n>', 'page size (1-1000)', positiveInteger)
    .option('--continuation-token <token>', 'start at this page')
    .option('--all', 'follow continuation tokens to the last page')
    .action(async (options: ListOptions, command: Command) => {
      const s = session(command);
      const query: InstanceQuery = {
        appId: options.app !== undefined ? checkAppId(options.app) : undefined,
        org: options.org,
        'instanceOwner.partyId': options.party,
        'process.currentTask': options.task,
        'process.isComplete': options.complete,
        'process.endEvent': options.endEvent,
        lastChanged: options.lastChanged,
        created: options.created,
        dueBefore: options.dueBefore,
        visibleAfter: options.visibleAfter,
        excludeConfirmedBy: options.excludeConfirmedBy,
        size: options.size,
        continuationToken: options.continuationToken,
      };
      const storage = await s.storage();
      const token = await s.token();
      if (!options.all) {
        const page = await storage.queryInstances(token, query);
        s.out(page, () => page.instances.map(instanceLine));
        if (page.next && !s.json) {
          const next = new URL(page.next, 'http://x').searchParams.get('continuationToken');
          ctx.stderr.write(`More: add --continuation-token ${next ?? '?'} (or --all)\n`);
        } else if (page.instances.length === 0 && !s.json) {
          ctx.stderr.write(`${NO_INSTANCES}\n`);
        }
        return;
      }
      const all: Instance[] = [];
      const progress = s.progress();
      let listed = 0;
      for await (const instance of storage.queryAllInstances(token, query)) {
        listed += 1;
        if (s.json) all.push(instance);
        else {
          progress.done();
          ctx.stdout.write(`${instanceLine(instance)}\n`);
        }
      }
      if (s.json) s.out({ count: all.length, instances: all }, () => []);
      else if (listed === 0) ctx.stderr.write(`${NO_INSTANCES}\n`);
    });

  instances
    .command('create')
    .description('create an instance through the app, optionally with its data elements in the same request')
    .requiredOption('--app <org/app>', 'appId')
    .option('--app-url <url>', 'app service base URL (default: $FORMS_APP_URL or the one saved at login)')
    .option('--party <partyId>', "instance owner's party id (default: the caller's own party)")
    .option('--data <dataType=file>', 'a data element to send along (repeatable); content type by file extension', collect)
    .option('--template <file>', 'instance template JSON ({instanceOwner, dueBefore, visibleAfter, dataValues})')
    .option('--copy-from <partyId/guid>', "start as a copy of this archived instance of the same owner (as the app's copyInstanceSettings say)")
    .action(async (options: CreateOptions, command: Command) => {
      const s = session(command);
      if (options.copyFrom !== undefined) {
        const source = checkInstanceId(options.copyFrom);
        if (options.data || options.template || options.party) throw new UsageError('--copy-from takes the owner and the data from the source: not with --data, --template or --party');
        const app = await s.app(options.appUrl, options.app);
        const copy = await app.copyInstance(source);
        s.out(copy, () => createdLines(copy, ` as a copy of ${source}`));
        return;
      }
      let template: InstanceTemplate = {};
      if (options.template) {
        const text = await readFile(s.path(options.template), 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`--template: cannot read ${options.template} (${error.code ?? error.message})`);
        });
        try {
          template = JSON.parse(text) as InstanceTemplate;
        } catch {
          throw new UsageError(`--template: ${options.template} is not valid JSON`);
        }
      }
      const specs: Array<{ dataType: string; file: string }> = [];
      for (const spec of options.data ?? []) {
        const equals = spec.indexOf('=');
        if (equals < 1 || equals === spec.length - 1) throw new UsageError(`--data must be <dataType>=<file>, not "${spec}"`);
        const file = s.path(spec.slice(equals + 1));
        await fileSize(file, '--data');
        specs.push({ dataType: spec.slice(0, equals), file });
      }
      const app = await s.app(options.appUrl, options.app);
      const parts: DataPart[] = specs.map(({ dataType, file }) => ({
        dataType,
        contentType: contentTypeOf(file),
        filename: basename(file),
        body: createReadStream(file),
      }));
      const instance = await app.createInstance(template, { ...(options.party && { partyId: options.party }), data: parts });
      s.out(instance, () => createdLines(instance));
    });
}
