import { Readable } from 'node:stream';
import type { DataElement, DataType } from '@forms/contracts';
import { AppErrors, loadInstance, type AppContext, type Caller } from './app-context';
import { assertMayChangeData, dataTypeOf } from './data-access';
import { ContentInspector, HEAD_BYTES, headMatchesDeclaredType, mediaTypeOf } from '@forms/content-check';

export interface BinaryContent {
  contentType: string;
  filename?: string;
  contentLength?: number;
  body: Readable;
}

/**
 * Reads just enough of a stream to look at its first bytes, and gives back a stream of the whole content,
 * or `abandon()` to stop reading it.
 */
export async function peek(body: Readable, bytes: number): Promise<{ head: Buffer; content: Readable; abandon: () => Promise<void> }> {
  // Not destroyed when given up: the body is the request, whose socket must stay up to carry the answer.
  const iterator = body.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
  const buffered: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const { value, done } = await iterator.next();
    if (done) break;
    buffered.push(value);
    length += value.length;
  }
  async function* whole(): AsyncGenerator<Buffer> {
    yield* buffered;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  // Stops listening to the body, so the rest of a refused or abandoned body can be drained.
  const abandon = async () => {
    await iterator.return?.();
  };
  const content = Readable.from(whole(), { objectMode: false });
  content.once('close', () => void abandon());
  return { head: Buffer.concat(buffered).subarray(0, bytes), content, abandon };
}

/** The app's attachment type of this id (not a form type, and one the app has). */
export function attachmentType(ctx: AppContext, dataType: string): DataType {
  if (ctx.definition.models.has(dataType)) throw AppErrors.notAttachment(dataType);
  return dataTypeOf(ctx, dataType);
}

/**
 * Streams an attachment through to storage. The first bytes decide whether the content is what its
 * Content-Type claims before storage is called; a PDF's trailer is checked as the stream ends (a failure
 * aborts the upload, and storage keeps nothing). Storage checks the content again, and enforces the data
 * type's allowed types, size (while streaming) and count; the app first holds the caller to the type's task and
 * contributors (assertMayChangeData).
 */
export async function addAttachment(ctx: AppContext, caller: Caller, instanceId: string, dataType: string, input: BinaryContent): Promise<DataElement> {
  const type = attachmentType(ctx, dataType);
  const { instance } = await loadInstance(ctx, caller, instanceId);
  assertMayChangeData(caller, instance, type);
  return storeAttachment(ctx, caller, instanceId, dataType, input);
}

/**
 * The content, once its first bytes show it is what its Content-Type claims; a PDF's trailer is checked as the
 * stream ends (the failure then aborts the upload to storage, which keeps nothing).
 */
export async function checkedContent(input: BinaryContent): Promise<Readable> {
  const declared = mediaTypeOf(input.contentType);
  const { head, content, abandon } = await peek(input.body, HEAD_BYTES);
  if (!headMatchesDeclaredType(head, declared)) {
    await abandon();
    throw AppErrors.contentMismatch(declared);
  }
  const inspected = content.pipe(new ContentInspector(declared, () => AppErrors.contentMismatch(declared)));
  content.once('error', (error) => inspected.destroy(error));
  // The failure reaches the storage call, which reads the stream when it sends: also if that is only after it failed.
  inspected.on('error', () => content.unpipe(inspected));
  // Given up before the end (storage refused the upload, or the call failed): stop reading the request too, so
  // what is left of it can be drained (a body still held by a reader cannot be resumed) and the connection freed.
  inspected.once('close', () => {
    if (!content.readableEnded) content.destroy();
  });
  return inspected;
}

export async function storeAttachment(ctx: AppContext, caller: Caller, instanceId: string, dataType: string, input: BinaryContent): Promise<DataElement> {
  const content = await checkedContent(input);
  return ctx.storage.uploadData(caller.token, instanceId, dataType, content, {
    contentType: input.contentType,
    ...(input.filename !== undefined && { filename: input.filename }),
    ...(input.contentLength !== undefined && { contentLength: input.contentLength }),
  });
}
