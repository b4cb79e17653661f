import { Readable } from 'node:stream';
import { startProcess } from '@forms/app-definition';
import { DomainError, type DataElement, type Instance } from '@forms/contracts';
import { formModel, loadInstance, type AppContext, type Caller } from './app-context';
import { jsonBody, readStoredFormData, STORED_FORM_CONTENT_TYPE } from './form-data';
import { withPrefill, type DataPart } from './instantiation';

export const CopyErrors = {
  notEnabled: () => new DomainError('invalid', 'COPY_NOT_ENABLED', 'This app does not let an instance start as a copy of another (copyInstanceSettings).'),
  otherOwner: () => new DomainError('invalid', 'COPY_OTHER_OWNER', "An instance can only be copied for its own instance owner, not into another party's."),
  notArchived: () => new DomainError('invalid', 'COPY_SOURCE_NOT_ARCHIVED', 'Only an archived instance (its process has ended) can be copied.'),
  sourceUnreadable: (dataId: string, cause: unknown) =>
    new DomainError(
      'unavailable',
      'COPY_SOURCE_UNREADABLE',
      `Attachment ${dataId} of the source instance could not be read whole from storage (${(cause as Error).message}); nothing was created. Try again: an attachment found damaged is left out.`,
    ),
};

/**
 * The data a new instance starts with when it is a copy of an archived one (Altinn's `sourceInstanceId`), as parts
 * for the one creation call (`instantiate`): so the copy is made whole or not at all.
 *
 * - Refused before anything is written: the app must enable copying, the source must belong to the new instance's
 *   owner and be archived, and the caller must be able to read it (404 otherwise, as for any instance).
 * - Copied: the elements of the form types of the task the new process starts in, except excluded data types, with
 *   the excluded fields left out and the request's prefill set on them; the instantiation then checks and
 *   calculates them as any form sent along. A form type the source has no element of is created as usual.
 * - With `includeAttachments`, also the attachments of that task's types, streamed from storage as the creation
 *   call sends them; those the caller cannot read (a malware verdict pending, infected, or found damaged) are left
 *   out. One that breaks off while it is read fails the copy (503, nothing created); storage marks content it finds
 *   damaged, so a retry leaves that one out.
 */
export async function copiedData(
  ctx: AppContext,
  caller: Caller,
  partyId: string,
  sourceInstanceId: string,
  prefill: Record<string, unknown> | undefined,
): Promise<AsyncIterable<DataPart>> {
  const settings = ctx.definition.metadata.copyInstanceSettings;
  if (!settings?.enabled) throw CopyErrors.notEnabled();
  if (sourceInstanceId.split('/')[0] !== partyId) throw CopyErrors.otherOwner();
  const { instance: source } = await loadInstance(ctx, caller, sourceInstanceId);
  if (!source.status.isArchived) throw CopyErrors.notArchived();

  const startTask = startProcess(ctx.definition.process, ctx.clock()).currentTask?.elementId;
  const excluded = new Set(settings.excludedDataTypes ?? []);
  const copied = (element: DataElement) => {
    const type = ctx.definition.metadata.dataTypes.find((candidate) => candidate.id === element.dataType);
    return type !== undefined && type.taskId !== undefined && type.taskId === startTask && !excluded.has(type.id);
  };
  const forms = source.data.filter((element) => copied(element) && ctx.definition.models.has(element.dataType));
  const attachments = settings.includeAttachments
    ? source.data.filter((element) => copied(element) && !ctx.definition.models.has(element.dataType) && readable(element))
    : [];
  // Forms are small: read now, so a source that cannot be read fails before anything is created.
  const formData = await Promise.all(
    forms.map(async (element) => {
      const data = withoutFields(await readStoredFormData(ctx, caller, source.id, element), settings.excludedDataFields ?? []);
      const model = formModel(ctx, element.dataType);
      return { dataType: element.dataType, data: prefill ? withPrefill(model, data, prefill) : data };
    }),
  );
  return parts(ctx, caller, source, formData, attachments);
}

async function* parts(
  ctx: AppContext,
  caller: Caller,
  source: Instance,
  forms: { dataType: string; data: Record<string, unknown> }[],
  attachments: DataElement[],
): AsyncGenerator<DataPart> {
  for (const { dataType, data } of forms) yield { dataType, contentType: STORED_FORM_CONTENT_TYPE, body: Readable.from([jsonBody(data)]) };
  for (const element of attachments) {
    // Opened only when the creation call is ready to send it: one download at a time.
    const download = await ctx.storage.downloadData(caller.token, source.id, element.id);
    const filename = element.filename ?? download.filename;
    const body = Readable.from(unbroken(download.body, element.id), { objectMode: false });
    yield { dataType: element.dataType, contentType: element.contentType, ...(filename !== undefined && { filename }), contentLength: download.size, body };
  }
}

/** The content, or COPY_SOURCE_UNREADABLE if it breaks off (the upload it feeds then fails with that error). */
async function* unbroken(body: AsyncIterable<Buffer>, dataId: string): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (error) {
    throw CopyErrors.sourceUnreadable(dataId, error);
  }
}

/** Content a party can read whole: storage serves neither a pending nor an infected file, and cuts damaged content off. */
const readable = (element: DataElement) => element.fileScanResult !== 'Pending' && element.fileScanResult !== 'Infected' && !element.damaged;

/**
 * A copy of `data` without the fields at the dotted paths (`applicant.personNumber`). A path through a list applies
 * to each item (`children.birthYear` leaves out every child's birth year); a path that leads nowhere changes nothing.
 */
export function withoutFields(data: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  const result = structuredClone(data);
  for (const path of paths) remove(result, path.split('.'));
  return result;
}

function remove(node: unknown, keys: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) remove(item, keys);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const [key, ...rest] = keys;
  if (key === undefined || !Object.hasOwn(node, key)) return;
  const record = node as Record<string, unknown>;
  if (rest.length === 0) delete record[key];
  else remove(record[key], rest);
}
