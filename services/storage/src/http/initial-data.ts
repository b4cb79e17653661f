import type { InstanceCreate, InstanceCreation } from '@forms/contracts';
import type { InitialData } from '../domain/instance-creation';
import { StorageErrors } from '../domain/errors';

/** A sender's file name as it is kept: no path separators, at most 255 characters. */
export function storedFilename(filename: string): string {
  return filename.replace(/[\\/]/g, '_').slice(0, 255);
}

/**
 * A JSON instantiation split into the instance and its initial data: each inline element's content decoded (the
 * schema checked its alphabet, here its groups of four), in the order sent, as the parts of a multipart creation.
 */
export function inlineCreation({ data = [], ...input }: InstanceCreation): { input: InstanceCreate; parts: InitialData[] } {
  const parts = data.map(({ dataType, contentType, filename, content }, index) => {
    if (content.length % 4 !== 0) {
      throw StorageErrors.invalid('INVALID_BASE64', `The content of data element ${index} is not padded base64 (its length is not a multiple of 4).`);
    }
    return {
      dataType,
      contentType,
      ...(filename && { filename: storedFilename(filename) }),
      body: Buffer.from(content, 'base64'),
    };
  });
  return { input, parts };
}
