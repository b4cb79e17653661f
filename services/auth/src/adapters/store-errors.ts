import { DomainError } from '@forms/contracts';

/** "The client store cannot serve requests": rendered as 503 (and as temporarily_unavailable on the token endpoint). */
export function clientStoreUnavailable(message: string, cause?: unknown): DomainError {
  const error = new DomainError('unavailable', 'CLIENT_STORE_UNAVAILABLE', message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
