import type { Instance } from '@forms/contracts';
import { StorageErrors } from './errors';

/**
 * How far one instance may grow. Its data elements, data values and texts live in its one document, and
 * every write reads, copies and rewrites the whole of it: without a ceiling a party adding small
 * attachments to a data type without maxCount makes each further write of that instance slower (tens of
 * milliseconds of the event loop per write at a few thousand elements, for every request the replica
 * serves), until MongoDB refuses the document at 16 MiB.
 */
export interface InstanceLimits {
  maxDataElements: number;
  /** Of the instance's JSON. */
  maxDocumentBytes: number;
}

/** Refuses one more data element on an instance that has as many as an instance may have. */
export function assertRoomForDataElement(instance: Pick<Instance, 'data'>, limits: InstanceLimits): void {
  if (instance.data.length >= limits.maxDataElements) throw StorageErrors.instanceDataElementLimit(limits.maxDataElements);
}

/**
 * Refuses a change that takes the instance past a limit. An instance already past one (the limit was
 * lowered) may still change as long as it does not grow: its process can move on and elements be deleted.
 * Returns the draft's JSON, made for the size check, so the write need not serialise it again.
 */
export function assertChangeWithinLimits(draft: Instance, current: Instance, limits: InstanceLimits): string {
  if (draft.data.length > limits.maxDataElements && draft.data.length > current.data.length) {
    throw StorageErrors.instanceDataElementLimit(limits.maxDataElements);
  }
  const json = JSON.stringify(draft);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most documents are known to fit without counting their bytes.
  if (json.length * 3 <= limits.maxDocumentBytes) return json;
  const size = Buffer.byteLength(json);
  if (size > limits.maxDocumentBytes && size > Buffer.byteLength(JSON.stringify(current))) throw StorageErrors.instanceTooLarge(limits.maxDocumentBytes);
  return json;
}
