import { Readable } from 'node:stream';
import type { InstanceCreate, InstanceCreation } from '@forms/contracts';
import { multipartCreation, partIterator, type InitialDataPart } from './multipart';

/**
 * Initial data of at most this many bytes in all, every part of it in memory, goes inline in a JSON request
 * (base64): storage then parses one JSON body instead of a multipart stream, which costs it more than the rest
 * of a small instantiation's parsing (ADR 0020). Anything larger, or streamed, goes as multipart.
 */
export const INLINE_DATA_MAX_BYTES = 64 * 1024;

/** JSON (with `parts`, the data it carries inline, for a multipart retry), or multipart. */
export type CreationRequest = { json: InstanceCreation; parts: InitialDataPart[] } | { body: Buffer | Readable; contentType: string };

/** The request that creates `instance` with `parts`: JSON with the data inline while it is small and in memory, else multipart. */
export async function creationRequest(
  instance: InstanceCreate,
  parts: AsyncIterable<InitialDataPart> | Iterable<InitialDataPart>,
): Promise<CreationRequest> {
  const iterator = partIterator(parts);
  const inMemory: InitialDataPart[] = [];
  let size = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const part = next.value;
    if (!(part.body instanceof Readable)) size += Buffer.byteLength(part.body);
    if (part.body instanceof Readable || size > INLINE_DATA_MAX_BYTES) {
      async function* all(): AsyncGenerator<InitialDataPart> {
        yield* inMemory;
        yield part;
        for (let rest = await iterator.next(); !rest.done; rest = await iterator.next()) yield rest.value;
      }
      return multipartCreation(instance, all());
    }
    inMemory.push(part);
  }
  if (inMemory.length === 0) return { json: instance, parts: [] };
  const data = inMemory.map(({ dataType, contentType, filename, body }) => ({
    dataType,
    contentType,
    ...(filename !== undefined && { filename }),
    content: Buffer.from(body as Buffer | string).toString('base64'),
  }));
  return { json: { ...instance, data }, parts: inMemory };
}
