import { setTimeout as sleep } from 'node:timers/promises';
import type { EventsClient } from '@forms/client';
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
  follow?: boolean;
  pollMs?: number;
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
    .option('--follow', 'then keep going: sync again as app.instance.process.completed events arrive (events service), until Ctrl-C')
    .option('--poll-ms <ms>', 'with --follow: wait between polls of the event feed when nothing is new (default 1000)', positiveInteger)
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
      const syncOnce = async () => {
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
      };
      if (!options.follow) return syncOnce();
      await followCompletions(await s.events(), appId, { ...(options.pollMs && { pollMs: options.pollMs }), ...(ctx.signal && { signal: ctx.signal }) }, syncOnce);
    });
}

const COMPLETED = 'app.instance.process.completed';

/**
 * `sync --follow`: finds the end of the app's feed of completions, syncs once (everything completed up to then),
 * then syncs again whenever new completions arrive. A completion between the two is seen by both: harmless, a
 * sync skips what is on disk. Stops when `signal` aborts.
 */
async function followCompletions(
  events: EventsClient,
  appId: string,
  options: { pollMs?: number; signal?: AbortSignal },
  syncOnce: () => Promise<void>,
): Promise<void> {
  const pageSize = 1000;
  let after = 0;
  for (;;) {
    const page = await events.feed(appId, { after, type: COMPLETED, size: pageSize });
    after = Number(page[page.length - 1]?.sequence ?? after);
    if (page.length < pageSize) break;
  }
  await syncOnce();
  while (!options.signal?.aborted) {
    const page = await events.feed(appId, { after, type: COMPLETED, size: pageSize });
    if (page.length > 0) {
      after = Number(page[page.length - 1]?.sequence ?? after);
      await syncOnce();
      continue;
    }
    try {
      await sleep(options.pollMs ?? 1000, undefined, options.signal ? { signal: options.signal } : undefined);
    } catch {
      return;
    }
  }
}
