import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Body } from './http';

/** A data element created together with an instance in storage. */
export interface InitialDataPart {
  dataType: string;
  contentType: string;
  body: Body;
  filename?: string;
}

/** One iterator over parts given either way (an async generator, or an array). */
export function partIterator(
  parts: AsyncIterable<InitialDataPart> | Iterable<InitialDataPart>,
): AsyncIterator<InitialDataPart> | Iterator<InitialDataPart> {
  return Symbol.asyncIterator in parts ? parts[Symbol.asyncIterator]() : (parts as Iterable<InitialDataPart>)[Symbol.iterator]();
}

/** A header parameter value in a multipart part header: quotes and line breaks escaped as browsers do. */
const quoted = (value: string) => value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/**
 * `instance` (JSON) first, then one file part per data element, named by its data type. Parts whose bodies are
 * in memory (a form's JSON) are put together into one buffer, sent with a Content-Length in one write; from the
 * first streamed part on, the body streams (that part and the rest are never buffered). The parts up to the first
 * streamed one are obtained before this resolves: a source that fails at once fails before any request is made.
 * A part without a file name has `filename=""`, so that it is still a file part (streamed) on the other side
 * rather than a size-limited form field.
 */
export async function multipartCreation(
  instance: unknown,
  parts: AsyncIterable<InitialDataPart> | Iterable<InitialDataPart>,
): Promise<{ body: Buffer | Readable; contentType: string }> {
  const boundary = `----forms-${randomUUID()}`;
  const contentType = `multipart/form-data; boundary=${boundary}`;
  const header = (name: string, type: string, filename?: string) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"` +
        `${filename !== undefined ? `; filename="${quoted(filename)}"` : ''}\r\nContent-Type: ${type}\r\n\r\n`,
    );
  const lineBreak = Buffer.from('\r\n');
  const closing = Buffer.from(`--${boundary}--\r\n`);
  const iterator = partIterator(parts);
  const head: Buffer[] = [header('instance', 'application/json'), Buffer.from(`${JSON.stringify(instance)}\r\n`)];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const part = next.value;
    head.push(header(part.dataType, part.contentType, part.filename ?? ''));
    if (part.body instanceof Readable) return { body: Readable.from(streamFrom(Buffer.concat(head), part.body)), contentType };
    head.push(Buffer.from(part.body), lineBreak);
  }
  head.push(closing);
  return { body: Buffer.concat(head), contentType };

  async function* streamFrom(buffered: Buffer, first: Readable): AsyncGenerator<Buffer> {
    yield buffered;
    let body: Body = first;
    for (;;) {
      if (body instanceof Readable) for await (const chunk of body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      else yield Buffer.from(body);
      yield lineBreak;
      const next = await iterator.next();
      if (next.done) break;
      yield header(next.value.dataType, next.value.contentType, next.value.filename ?? '');
      body = next.value.body;
    }
    yield closing;
  }
}
