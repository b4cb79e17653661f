import type { KeyValueEntry } from '@forms/contracts';
import { loadInstance, type AppContext, type Caller } from './app-context';
import { findElement } from './data-access';

/** A data element's user-defined metadata (Altinn's UserDefinedMetadataDto), as storage has it. */
export async function userDefinedMetadata(ctx: AppContext, caller: Caller, instanceId: string, dataId: string): Promise<KeyValueEntry[]> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  return findElement(instance, dataId).userDefinedMetadata ?? [];
}

/**
 * Replaces a data element's user-defined metadata (a PUT: the list sent is the list kept). Storage writes only this
 * member of the element (a tag added meanwhile stays) and holds it to its rules: each key once, only the keys the data
 * type's `allowedKeysForUserDefinedMetadata` names, and who may (the contributors of the type; not a locked element).
 */
export async function replaceUserDefinedMetadata(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, entries: KeyValueEntry[]): Promise<KeyValueEntry[]> {
  // An instance of another app, or no such element: not found here, as for every route of this app.
  findElement((await loadInstance(ctx, caller, instanceId)).instance, dataId);
  return (await ctx.storage.updateDataElement(caller.token, instanceId, dataId, { userDefinedMetadata: entries })).userDefinedMetadata ?? [];
}
