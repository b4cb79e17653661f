import type { Command } from 'commander';
import { checkAppId, positiveInteger } from '../arguments';
import { formatBytes, type CliContext } from '../io';
import type { SessionFactory } from '../session';
import { syncApp, type SyncEvent } from '../sync';

interface SyncCommandOptions {
  app: string;
  dir: string;
  org?: string;
  size?: number;
}

/** `sync`: the org's archive job (see ../sync.ts for its guarantees). */
export function addSyncCommand(program: Command, ctx: CliContext, session: SessionFactory): void {
  program
    .command('sync')
    .description(
      "download every completed instance of an app the org has not confirmed into <dir>/<partyId>/<instanceGuid>/, then confirm each; safe to re-run after a crash",
    )
    .requiredOption('--app <org/app>', 'appId')
    .requiredOption('--dir <folder>', 'target folder')
    .option('--org <org>', "org that confirms (default: the app's org)")
    .option('--size <n>', 'page size of the storage query', positiveInteger)
    .action(async (options: SyncCommandOptions, command: Command) => {
      const s = session(command);
      const appId = checkAppId(options.app);
      const storage = await s.storage();
      const token = await s.token();
      const progress = s.progress();
      let written = 0;
      let skipped = 0;
      let bytes = 0;
      const onEvent = (event: SyncEvent) => {
        if (event.type === 'bytes') bytes = event.total;
        if (event.type === 'written') written += 1;
        if (event.type === 'skipped') skipped += 1;
        // Said also with --json (on stderr): a file the org will never get must not go unnoticed.
        if (event.type === 'infected') {
          progress.done();
          const { element } = event;
          ctx.stderr.write(
            `skipped infected ${element.dataType} ${element.dataId}${element.filename ? ` (${element.filename})` : ''} of ${element.instanceId}: ${element.signature ?? 'malware found'}; storage never serves it\n`,
          );
        }
        if (event.type === 'scan-pending') {
          progress.done();
          ctx.stderr.write(`left ${event.instanceId} for a later run: a file is still being scanned for malware\n`);
        }
        if (event.type === 'confirmed' && !s.json) {
          progress.done();
          ctx.stdout.write(`confirmed ${event.instanceId}\n`);
        }
        progress.update(`sync: ${written} written, ${skipped} already on disk, ${formatBytes(bytes)}`, event.type !== 'bytes');
      };
      let report;
      try {
        report = await syncApp({
          storage,
          token,
          appId,
          dir: s.path(options.dir),
          ...(options.org && { org: options.org }),
          ...(options.size && { pageSize: options.size }),
          ...(ctx.writeFile && { writeFile: ctx.writeFile }),
          onEvent,
        });
      } finally {
        progress.done();
      }
      s.out(report, () => {
        const scan = [
          ...(report.infected.length > 0 ? [`${report.infected.length} infected file(s) skipped`] : []),
          ...(report.scanPending.length > 0 ? [`${report.scanPending.length} instance(s) awaiting a malware scan left for later`] : []),
        ];
        return `${report.downloaded} downloaded, ${report.skipped} already on disk, ${report.confirmed} confirmed (${report.bytes} bytes)${scan.map((part) => `, ${part}`).join('')}`;
      });
    });
}
