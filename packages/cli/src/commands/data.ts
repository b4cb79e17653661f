import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { StorageApi } from '@forms/client';
import { DomainError } from '@forms/contracts';
import { writeFileAtomic } from '../atomic-file';
import { checkInstanceId, counting, fileSize, PROGRESS_THRESHOLD_BYTES } from '../arguments';
import { contentTypeOf } from '../content-type';
import { elementFileName } from '../file-names';
import { transferLine, type CliContext } from '../io';
import type { SessionFactory } from '../session';
import { scanNote } from '../scan-status';

interface UploadOptions {
  app: string;
  appUrl?: string;
  instance: string;
  type: string;
  file: string;
  contentType?: string;
  filename?: string;
}

interface DownloadOptions {
  instance: string;
  dataId: string;
  out?: string;
}

/** The name `data download` gives the file without --out: the data element's own, from the instance's metadata. */
async function defaultFileName(storage: StorageApi, token: string, instanceId: string, dataId: string): Promise<string> {
  const { value: instance } = await storage.getInstance(token, instanceId);
  const element = instance.data.find((candidate) => candidate.id === dataId);
  if (!element) throw new DomainError('not_found', 'DATA_ELEMENT_NOT_FOUND', `Instance ${instanceId} has no data element ${dataId}.`);
  return elementFileName(element);
}

/** `data upload` (streamed through the app) and `data download` (streamed from storage to a file). */
export function addDataCommands(program: Command, ctx: CliContext, session: SessionFactory): void {
  const data = program.command('data').description('upload and download data elements');

  data
    .command('upload')
    .description('stream a file to an instance through the app (form data or an attachment)')
    .requiredOption('--app <org/app>', 'appId')
    .option('--app-url <url>', 'app service base URL (default: $FORMS_APP_URL or the one saved at login)')
    .requiredOption('--instance <partyId/guid>', 'instance id')
    .requiredOption('--type <dataType>', 'data type')
    .requiredOption('--file <file>', 'file to upload')
    .option('--content-type <type>', 'content type (default: by file extension)')
    .option('--filename <name>', 'file name to record (default: the file name)')
    .action(async (options: UploadOptions, command: Command) => {
      const s = session(command);
      const instanceId = checkInstanceId(options.instance);
      const file = s.path(options.file);
      const size = await fileSize(file, '--file');
      const app = await s.app(options.appUrl, options.app);
      const progress = s.progress();
      const label = `Uploading ${basename(file)}`;
      const body = createReadStream(file).pipe(counting((bytes) => size >= PROGRESS_THRESHOLD_BYTES && progress.update(transferLine(label, bytes, size))));
      let element;
      try {
        element = await app.uploadAttachment(instanceId, options.type, body, {
          contentType: options.contentType ?? contentTypeOf(file),
          filename: options.filename ?? basename(file),
          contentLength: size,
        });
      } finally {
        progress.done();
      }
      s.out(element, () => `Uploaded ${basename(file)} as ${element.dataType} ${element.id} (${element.size} bytes)${scanNote(element)}`);
    });

  data
    .command('download')
    .description('stream a data element from storage to a file (written to a temp file, then renamed)')
    .requiredOption('--instance <partyId/guid>', 'instance id')
    .requiredOption('--data-id <guid>', 'data element id')
    .option('--out <file>', "target file (default: the element's file name, in the current folder)")
    .action(async (options: DownloadOptions, command: Command) => {
      const s = session(command);
      const instanceId = checkInstanceId(options.instance);
      const storage = await s.storage();
      const token = await s.token();
      // Without --out: the element's own file name, made safe, in the folder the user is in.
      const target = s.path(options.out ?? (await defaultFileName(storage, token, instanceId, options.dataId)));
      const download = await storage.downloadData(token, instanceId, options.dataId);
      const progress = s.progress();
      const label = `Downloading ${basename(target)}`;
      let written;
      try {
        written = await (ctx.writeFile ?? writeFileAtomic)(target, download.body, {
          onProgress: (bytes) => download.size >= PROGRESS_THRESHOLD_BYTES && progress.update(transferLine(label, bytes, download.size)),
          ...(download.size > 0 && { expectedSize: download.size }),
        });
      } finally {
        progress.done();
      }
      s.out({ path: written.path, bytes: written.bytes, sha256: written.sha256, contentType: download.contentType }, () =>
        `Saved ${written.bytes} bytes to ${written.path} (sha256 ${written.sha256})`,
      );
    });
}
