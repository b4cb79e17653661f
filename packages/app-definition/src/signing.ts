/** Signing tasks checked against the app's data types: what they sign, and where the signature goes. */
import type { DataType } from '@forms/contracts';
import type { ProcessDefinition } from './api';

/** The signature document is JSON. */
export const SIGNATURE_CONTENT_TYPE = 'application/json';

/**
 * A signing task names the data types it signs and an app-owned data type of its own for the signature: one a party
 * could write would let a party store a signature it never made, and one not bound to the task would stay writable
 * after it.
 */
export function checkSigningTasks(definition: ProcessDefinition, dataTypes: readonly DataType[], label: string): string[] {
  const problems: string[] = [];
  const byId = new Map(dataTypes.map((type) => [type.id, type]));
  for (const element of definition.elements.values()) {
    if (element.kind !== 'task') continue;
    const at = `${label}: task ${element.id}`;
    const config = element.signatureConfig;
    if (element.taskType !== 'signing') {
      if (config) problems.push(`${at} has a signatureConfig but is a ${element.taskType} task`);
      continue;
    }
    if (!config) {
      problems.push(`${at} is a signing task without a signatureConfig (dataTypesToSign, signatureDataType)`);
      continue;
    }
    if (config.dataTypesToSign.length === 0) problems.push(`${at} signs nothing: dataTypesToSign is empty`);
    for (const id of config.dataTypesToSign) if (!byId.has(id)) problems.push(`${at} signs data type ${id}, which the app does not have`);
    const signature = byId.get(config.signatureDataType);
    if (!signature) {
      problems.push(`${at}: signatureDataType ${JSON.stringify(config.signatureDataType)} is not a data type of the app`);
      continue;
    }
    const where = `${at}: signature data type ${signature.id}`;
    if (config.dataTypesToSign.includes(signature.id)) problems.push(`${where} cannot also be signed`);
    if (signature.appLogic !== undefined) problems.push(`${where} must not be form data (no appLogic)`);
    if (!(signature.allowedContributors ?? []).includes('app:owned')) problems.push(`${where} must be app-owned: "allowedContributors": ["app:owned"]`);
    if (signature.taskId !== element.id) problems.push(`${where} must have "taskId": "${element.id}"`);
    const types = signature.allowedContentTypes ?? [];
    if (types.length > 0 && !types.includes(SIGNATURE_CONTENT_TYPE)) problems.push(`${where} must allow ${SIGNATURE_CONTENT_TYPE}`);
  }
  return problems;
}
