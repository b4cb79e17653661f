import type { Readable } from 'node:stream';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { InstanceCreate } from '@forms/contracts';
import { multipartParts } from '@forms/service-kit';
import type { InitialData } from '../domain/instance-creation';
import { StorageErrors } from '../domain/errors';
import { storedFilename } from './initial-data';

const MAX_INSTANCE_PART_BYTES = 256 * 1024;

type Part = MultipartFile | MultipartValue;

/**
 * A multipart creation: the `instance` part first (InstanceCreate as JSON), then one part per data
 * element, named by its data type, with its own Content-Type and, when the element has a file name,
 * a `filename` (an empty `filename=""` marks a part without one, so that it still streams as a file).
 * Parts are handed on as they arrive, never buffered.
 */
export async function readMultipartCreation(
  request: FastifyRequest,
  maxPartBytes: number,
): Promise<{ input: InstanceCreate; parts: AsyncIterable<InitialData> }> {
  const iterator = multipartParts(request, { limits: { fileSize: maxPartBytes, parts: 51, fieldSize: MAX_INSTANCE_PART_BYTES } });
  // A sender that gives up half-way drops the connection; the part being read, or the wait for the
  // next one, would otherwise last forever (and hold up shutdown).
  let current: Readable | undefined;
  let abort: ((error: Error) => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    abort = reject;
  });
  aborted.catch(() => undefined);
  const onClose = () => {
    if (request.raw.complete) return;
    const error = StorageErrors.invalid('REQUEST_ABORTED', 'The request ended before its last part.');
    current?.destroy(error);
    abort?.(error);
  };
  request.raw.once('close', onClose);
  if (request.raw.destroyed) onClose();
  const release = () => {
    current = undefined;
    request.raw.off('close', onClose);
  };
  const nextPart = () => Promise.race([iterator.next(), aborted]);

  let input: InstanceCreate;
  try {
    const first = await nextPart();
    if (first.done || first.value.fieldname !== 'instance') {
      throw StorageErrors.invalid('INSTANCE_PART_REQUIRED', "The first part of a multipart creation must be 'instance'.");
    }
    input = parseInstancePart(request, await partText(first.value));
  } catch (error) {
    release();
    throw error;
  }
  async function* dataParts(): AsyncGenerator<InitialData> {
    try {
      for (let next = await nextPart(); !next.done; next = await nextPart()) {
        const part = next.value;
        const filename = part.type === 'file' && part.filename ? storedFilename(part.filename) : undefined;
        const body = part.type === 'file' ? part.file : Buffer.from(await partText(part));
        current = part.type === 'file' ? part.file : undefined;
        yield { dataType: part.fieldname, contentType: part.mimetype, ...(filename && { filename }), body };
        current = undefined;
      }
    } finally {
      release();
    }
  }
  return { input, parts: dataParts() };
}

async function partText(part: Part): Promise<string> {
  if (part.type === 'field') return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_INSTANCE_PART_BYTES) throw StorageErrors.invalid('INSTANCE_PART_TOO_LARGE', `The 'instance' part exceeds ${MAX_INSTANCE_PART_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Checked with the route's own validator, so a multipart instance part meets exactly what a JSON body must. */
function parseInstancePart(request: FastifyRequest, text: string): InstanceCreate {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw StorageErrors.invalid('MALFORMED_JSON', "The 'instance' part is not valid JSON.");
  }
  const validate = request.compileValidationSchema(InstanceCreate);
  if (!validate(value)) {
    const reasons = (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`.trim());
    throw StorageErrors.invalid('VALIDATION_FAILED', `The 'instance' part does not match the instance schema: ${reasons.join('; ')}.`);
  }
  return value as InstanceCreate;
}
