import { DomainError, type KeyValueEntry } from '@forms/contracts';
import { loadInstance, type AppContext, type Caller } from './app-context';
import { dataTypeOf, findElement } from './data-access';

export const MetadataErrors = {
  duplicateKeys: (keys: string[]) => new DomainError('invalid', 'DUPLICATE_METADATA_KEY', `These keys are given more than once: ${keys.join(', ')}.`),
  keysNotAllowed: (keys: string[], dataType: string) =>
    new DomainError('invalid', 'METADATA_KEY_NOT_ALLOWED', `Data type '${dataType}' does not allow these keys: ${keys.join(', ')}.`),
};

/** A data element's user-defined metadata (Altinn's UserDefinedMetadataDto), as storage has it. */
export async function userDefinedMetadata(ctx: AppContext, caller: Caller, instanceId: string, dataId: string): Promise<KeyValueEntry[]> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  return findElement(instance, dataId).userDefinedMetadata ?? [];
}

/**
 * Replaces a data element's user-defined metadata (a PUT: the list sent is the list kept). Each key once, and only
 * keys its data type's `allowedKeysForUserDefinedMetadata` names, when it names any. Storage writes only this member
 * of the element (a tag added meanwhile stays) and decides who may (the contributors of the type; not a locked element).
 */
export async function replaceUserDefinedMetadata(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, entries: KeyValueEntry[]): Promise<KeyValueEntry[]> {
  const keys = entries.map((entry) => entry.key);
  const duplicated = [...new Set(keys.filter((key, index) => keys.indexOf(key) !== index))];
  if (duplicated.length > 0) throw MetadataErrors.duplicateKeys(duplicated);
  const { instance } = await loadInstance(ctx, caller, instanceId);
  const element = findElement(instance, dataId);
  const allowed = dataTypeOf(ctx, element.dataType).allowedKeysForUserDefinedMetadata;
  const refused = allowed && allowed.length > 0 ? keys.filter((key) => !allowed.includes(key)) : [];
  if (refused.length > 0) throw MetadataErrors.keysNotAllowed(refused, element.dataType);
  return (await ctx.storage.updateDataElement(caller.token, instanceId, dataId, { userDefinedMetadata: entries })).userDefinedMetadata ?? [];
}
