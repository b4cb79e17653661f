import type { InstanceCreate, InstanceCreation } from '@forms/contracts';
import type { InitialData } from '../domain/instance-creation';

/** A sender's file name as it is kept: no path separators, at most 255 characters. */
export function storedFilename(filename: string): string {
  return filename.replace(/[\\/]/g, '_').slice(0, 255);
}

/**
 * A JSON instantiation split into the instance and its initial data: each inline element's content decoded
 * (the schema checked that it is canonical base64), in the order sent, as the parts of a multipart creation.
 */
export function inlineCreation({ data = [], ...input }: InstanceCreation): { input: InstanceCreate; parts: InitialData[] } {
  const parts = data.map(({ dataType, contentType, filename, content }) => ({
    dataType,
    contentType,
    ...(filename && { filename: storedFilename(filename) }),
    body: Buffer.from(content, 'base64'),
  }));
  return { input, parts };
}
