/**
 * Failure kinds the domain layers report. They carry no HTTP knowledge; each service's error handler
 * maps a kind to a status code and renders RFC 7807 problem details with the stable `code`.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required'
  | 'too_large'
  | 'unsupported_media_type'
  | 'range_not_satisfiable'
  | 'unavailable'
  | 'timeout'
  /** The store has no room for the write (disk full): 507, retried once space returns. */
  | 'insufficient_storage';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  precondition_required: 428,
  too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  unavailable: 503,
  timeout: 504,
  insufficient_storage: 507,
};

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable machine-readable code, e.g. `INSTANCE_NOT_FOUND`. */
    readonly code: string,
    message: string,
    /** Extra members for the problem document, e.g. validation issues. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/** A write that named a version (If-Match) the resource no longer has: 412, the same wherever it is found. */
export const versionMismatch = (currentVersion: number): DomainError =>
  new DomainError('precondition_failed', 'VERSION_MISMATCH', `The resource has changed; its current version is ${currentVersion}.`, {
    currentVersion,
  });
