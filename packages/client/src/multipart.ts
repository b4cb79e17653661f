import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Body } from './http';

/** A data element created together with an instance in storage. */
export interface InitialDataPart {
  dataType: string;
  contentType: string;
  body: Body;
  filename?: string;
}

/** A header parameter value in a multipart part header: quotes and line breaks escaped as browsers do. */
const quoted = (value: string) => value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/**
 * `instance` (JSON) first, then one file part per data element, named by its data type; streamed
 * bodies are streamed through, not buffered. A part without a file name has `filename=""`, so that it
 * is still a file part (streamed) on the other side rather than a size-limited form field.
 */
export function multipartCreation(instance: unknown, parts: AsyncIterable<InitialDataPart> | Iterable<InitialDataPart>): { body: Readable; contentType: string } {
  const boundary = `----forms-${randomBytes(12).toString('hex')}`;
  const header = (name: string, contentType: string, filename?: string) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"` +
        `${filename !== undefined ? `; filename="${quoted(filename)}"` : ''}\r\nContent-Type: ${contentType}\r\n\r\n`,
    );
  async function* generate(): AsyncGenerator<Buffer> {
    yield header('instance', 'application/json');
    yield Buffer.from(`${JSON.stringify(instance)}\r\n`);
    for await (const part of parts) {
      yield header(part.dataType, part.contentType, part.filename ?? '');
      if (part.body instanceof Readable) {
        for await (const chunk of part.body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      } else {
        yield Buffer.from(part.body);
      }
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return { body: Readable.from(generate()), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * The same parts, with the first one already obtained: a source that fails at once (the caller refused
 * its own first part) then fails before any request is made, rather than in the middle of one.
 */
export async function primed(parts: Iterable<InitialDataPart> | AsyncIterable<InitialDataPart>): Promise<AsyncIterable<InitialDataPart>> {
  const iterator = Symbol.asyncIterator in parts ? parts[Symbol.asyncIterator]() : (parts as Iterable<InitialDataPart>)[Symbol.iterator]();
  const first = await iterator.next();
  async function* all(): AsyncGenerator<InitialDataPart> {
    for (let next = first; !next.done; next = await iterator.next()) yield next.value;
  }
  return all();
}
