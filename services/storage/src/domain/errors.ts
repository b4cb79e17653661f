import { DomainError, versionMismatch } from '@forms/contracts';

/** The storage service's failures, one constructor per stable code. */
export const StorageErrors = {
  instanceNotFound: () => new DomainError('not_found', 'INSTANCE_NOT_FOUND', 'No such instance, or you may not see it.'),
  applicationNotFound: (appId: string) => new DomainError('not_found', 'APPLICATION_NOT_FOUND', `Application ${appId} is not registered.`),
  applicationExists: (appId: string) => new DomainError('conflict', 'APPLICATION_EXISTS', `Application ${appId} is already registered.`),
  applicationRetired: (appId: string) => new DomainError('conflict', 'APPLICATION_RETIRED', `Application ${appId} is no longer valid for new instances.`),
  eventNotFound: () => new DomainError('not_found', 'EVENT_NOT_FOUND', 'No such event on this instance.'),
  applicationHasInstances: (appId: string) =>
    new DomainError('conflict', 'APPLICATION_HAS_INSTANCES', `Application ${appId} still has instances; delete it softly, or delete its instances first.`),
  emptyContent: () => new DomainError('invalid', 'DATA_EMPTY', 'The upload has no content; a data element cannot be empty.'),
  dataElementNotFound: () => new DomainError('not_found', 'DATA_ELEMENT_NOT_FOUND', 'No such data element on this instance.'),
  dataTypeNotFound: (dataType: string) =>
    new DomainError('invalid', 'DATA_TYPE_NOT_FOUND', `The application has no data type '${dataType}'.`),
  contentTypeNotAllowed: (contentType: string, dataType: string) =>
    new DomainError('unsupported_media_type', 'CONTENT_TYPE_NOT_ALLOWED', `Content type '${contentType}' is not allowed for data type '${dataType}'.`),
  tooManyDataElements: (dataType: string, maxCount: number) =>
    new DomainError('conflict', 'DATA_TYPE_MAX_COUNT', `Data type '${dataType}' allows at most ${maxCount} element(s) per instance.`),
  instanceDataElementLimit: (limit: number) =>
    new DomainError('conflict', 'INSTANCE_DATA_ELEMENT_LIMIT', `An instance may have at most ${limit} data elements; delete one first.`),
  instanceTooLarge: (limitBytes: number) =>
    new DomainError('conflict', 'INSTANCE_TOO_LARGE', `The change would take the instance past ${limitBytes} bytes, the most an instance may hold.`),
  dataTooLarge: (limitBytes: number) =>
    new DomainError('too_large', 'DATA_TOO_LARGE', `The content exceeds the limit of ${limitBytes} bytes for this data type.`),
  dataElementLocked: () => new DomainError('conflict', 'DATA_ELEMENT_LOCKED', 'The data element is locked and cannot be changed.'),
  instanceLocked: (reason: string) => new DomainError('conflict', 'INSTANCE_LOCKED', reason),
  tooLargeToScan: (limitBytes: number) =>
    new DomainError(
      'too_large',
      'DATA_TOO_LARGE_TO_SCAN',
      `The content exceeds the ${limitBytes} bytes the malware scanner accepts; uploads of this data type must be scanned.`,
    ),
  scannerUnavailable: (reason: string) =>
    new DomainError('unavailable', 'MALWARE_SCANNER_UNAVAILABLE', `The upload could not be scanned for malware and was not stored: ${reason}`),
  dataInfected: () => new DomainError('conflict', 'DATA_ELEMENT_INFECTED', 'The content was found to contain malware and is never served.'),
  dataScanPending: () =>
    new DomainError('conflict', 'DATA_ELEMENT_SCAN_PENDING', 'The content has not been scanned for malware yet; try again later.'),
  versionMismatch,
  instanceGuidTaken: () =>
    new DomainError('conflict', 'INSTANCE_GUID_TAKEN', 'An instance with this instanceGuid exists and was not created by this request.'),
  writeConflict: () =>
    new DomainError('conflict', 'WRITE_CONFLICT', 'The resource was changed by concurrent requests; retry.'),
  forbidden: (detail: string) => new DomainError('forbidden', 'FORBIDDEN', detail),
  appRequired: (action: string) =>
    new DomainError('forbidden', 'APP_REQUIRED', `Only the app, acting for the party, may ${action}; go through the app's API.`),
  orgRequired: (action: string) => new DomainError('forbidden', 'ORG_REQUIRED', `Only the app owner may ${action}.`),
  roleNotAllowed: (role: string, action: string) =>
    new DomainError('forbidden', 'NOT_ALLOWED_FOR_CALLER', `A caller acting as ${role === 'app' ? 'the app' : `the ${role}`} may not ${action}.`),
  wrongApp: (app: string, appId: string) =>
    new DomainError('forbidden', 'APP_MISMATCH', `The app ${app} may only act in its own instances, not in ${appId}.`),
  dataTypeNotWritable: (dataType: string, who: string) =>
    new DomainError('forbidden', 'DATA_TYPE_NOT_WRITABLE', `Data of type '${dataType}' is not written by ${who}; it belongs to the app.`),
  notInTask: (dataType: string, taskId: string) =>
    new DomainError('conflict', 'NOT_IN_TASK', `Data of type '${dataType}' can only change while the process is in task '${taskId}'.`),
  processEnded: () => new DomainError('conflict', 'PROCESS_ENDED', 'The process has ended; its state is final.'),
  invalidProcessState: (detail: string) => new DomainError('conflict', 'INVALID_PROCESS_STATE', detail),
  contentMismatch: (declared: string, dataType: string) =>
    new DomainError(
      'unsupported_media_type',
      'CONTENT_TYPE_MISMATCH',
      `The content is not what its Content-Type '${declared}' claims, or not a type data type '${dataType}' allows.`,
    ),
  missingScope: (scope: string) => new DomainError('forbidden', 'MISSING_SCOPE', `The token lacks the scope '${scope}'.`),
  invalid: (code: string, detail: string) => new DomainError('invalid', code, detail),
  blobStoreFull: () =>
    new DomainError('insufficient_storage', 'STORAGE_FULL', 'The content store has no room for this content; nothing was stored. Retry later.'),
  contentDamaged: (reason: string) =>
    new DomainError('content_damaged', 'DATA_CONTENT_DAMAGED', `The stored content does not match what was recorded at upload (${reason}).`),
  rangeNotSatisfiable: (size: number) =>
    new DomainError('range_not_satisfiable', 'RANGE_NOT_SATISFIABLE', `The requested range is outside the content of ${size} bytes.`, {
      size,
    }),
};
