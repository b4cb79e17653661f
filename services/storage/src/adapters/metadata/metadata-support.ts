import { DomainError } from '@forms/contracts';

/** Helpers both MetadataStore adapters share, so they read ids and report failures alike. */

/** `instance.id` is `<partyId>/<instanceGuid>`; the guid is the instance's key in the store. */
export function instanceGuidOf(instance: { id: string }): string {
  const [partyId, guid, ...rest] = instance.id.split('/');
  if (!partyId || !guid || rest.length > 0) {
    throw new DomainError('invalid', 'INVALID_INSTANCE_ID', `instance id ${instance.id} is not <partyId>/<instanceGuid>`);
  }
  return guid;
}

export function assertValidLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
}

/** The error for "the store cannot serve requests"; the error handler renders it as 503. */
export function metadataStoreUnavailable(message: string, cause?: unknown): DomainError {
  const error = new DomainError('unavailable', 'METADATA_STORE_UNAVAILABLE', message);
  if (cause !== undefined) error.cause = cause;
  return error;
}
