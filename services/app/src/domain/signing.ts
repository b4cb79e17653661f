import { SIGNATURE_CONTENT_TYPE, type ProcessTask } from '@forms/app-definition';
import { DomainError, principalId, timeOrderedUuid, type DataElement, type Instance, type Principal } from '@forms/contracts';
import { AppErrors, type AppContext, type Caller } from './app-context';
import { fileScanIssues } from './file-scan-validation';

/** Altinn's SignDocument: who signed which data elements, named by the hashes of their stored content. */
export interface SignDocument {
  id: string;
  instanceGuid: string;
  signedTime: string;
  signeeInfo: { userId?: string; systemId?: string; organisationNumber?: string; partyId?: string };
  dataElementSignatures: Array<{ dataElementId: string; sha256Hash: string; signed: boolean }>;
}

export const SigningErrors = {
  nothingToSign: (taskId: string) => new DomainError('conflict', 'NOTHING_TO_SIGN', `Task '${taskId}' has no data to sign yet.`),
  contentUnknown: (element: DataElement) =>
    new DomainError('conflict', 'SIGNED_CONTENT_UNKNOWN', `The content of data element ${element.id} cannot be vouched for (no hash, or found damaged): it cannot be signed.`),
};

function signeeOf(principal: Principal): SignDocument['signeeInfo'] {
  switch (principal.kind) {
    case 'user':
      return { userId: principal.userId, partyId: principal.partyId };
    case 'system':
      return { systemId: principal.systemId, partyId: principal.partyId };
    case 'org':
      return { organisationNumber: principal.orgNumber ?? principal.org };
  }
}

/**
 * The caller signs the data of the signing task the instance is in: a signature document naming each element of
 * the task's `dataTypesToSign` by the hash storage took of its content, stored as an element of the task's
 * signature data type (app-owned, so no party can store one of its own). A signature the caller made since the
 * task started counts: a retry after the process failed to move does not sign twice. Answers whether it signed now.
 */
export async function signCurrentTask(ctx: AppContext, caller: Caller, instance: Instance, task: ProcessTask): Promise<boolean> {
  const config = task.signatureConfig;
  if (!config) throw new Error(`signing task ${task.id} has no signatureConfig (the app definition check lets none through)`);
  const signee = principalId(caller.principal);
  const started = instance.process.currentTask?.started ?? '';
  const signedAlready = instance.data.some((element) => element.dataType === config.signatureDataType && element.createdBy === signee && element.created >= started);
  if (signedAlready) return false;

  const signing = new Set(config.dataTypesToSign);
  const elements = instance.data.filter((element) => signing.has(element.dataType));
  if (elements.length === 0) throw SigningErrors.nothingToSign(task.id);
  const scanIssues = fileScanIssues(instance, signing);
  if (scanIssues.length > 0) throw AppErrors.validationFailed(scanIssues);
  const unknown = elements.find((element) => !element.contentHash || element.damaged);
  if (unknown) throw SigningErrors.contentUnknown(unknown);

  const document: SignDocument = {
    id: timeOrderedUuid(),
    instanceGuid: instance.id.split('/')[1] as string,
    signedTime: ctx.clock(),
    signeeInfo: signeeOf(caller.principal),
    dataElementSignatures: elements.map((element) => ({ dataElementId: element.id, sha256Hash: element.contentHash as string, signed: true })),
  };
  await ctx.storage.uploadData(caller.token, instance.id, config.signatureDataType, JSON.stringify(document), {
    contentType: SIGNATURE_CONTENT_TYPE,
    filename: `signature-${document.id}.json`,
  });
  return true;
}
