import { DomainError, isDomainError } from '@forms/contracts';
import { loadInstance, type AppContext, type Caller } from './app-context';
import { findElement } from './data-access';

/** Altinn's rule for a tag: letters, `-` and `_` only (so a tag is safe in a URL path); bounded here too. */
const TAG = /^[\p{L}_-]{1,64}$/u;
const MAX_ATTEMPTS = 8;

export const TagErrors = {
  invalid: () => new DomainError('invalid', 'INVALID_TAG', 'A tag consists of 1 to 64 letters, "-" or "_".'),
};

/** The tags of a data element (Altinn's TagsList). */
export async function dataTags(ctx: AppContext, caller: Caller, instanceId: string, dataId: string): Promise<string[]> {
  const { instance } = await loadInstance(ctx, caller, instanceId);
  return findElement(instance, dataId).tags ?? [];
}

/** Adds a tag (idempotent); answers the element's tags. */
export function addDataTag(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, tag: string): Promise<string[]> {
  if (!TAG.test(tag)) throw TagErrors.invalid();
  return changeTags(ctx, caller, instanceId, dataId, (tags) => (tags.includes(tag) ? undefined : [...tags, tag]));
}

/** Removes a tag (idempotent). */
export async function removeDataTag(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, tag: string): Promise<void> {
  await changeTags(ctx, caller, instanceId, dataId, (tags) => (tags.includes(tag) ? tags.filter((other) => other !== tag) : undefined));
}

/**
 * Writes the element's tags as `change` makes them from the current ones (undefined: nothing to change), guarded by
 * the element's version: a tag added or removed by someone else meanwhile is never overwritten; the change is made
 * again on what is there now. Storage decides who may change the element (and refuses a locked one).
 */
async function changeTags(ctx: AppContext, caller: Caller, instanceId: string, dataId: string, change: (tags: string[]) => string[] | undefined): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    const { instance } = await loadInstance(ctx, caller, instanceId);
    const element = findElement(instance, dataId);
    const tags = change(element.tags ?? []);
    if (tags === undefined) return element.tags ?? [];
    try {
      return (await ctx.storage.updateDataElement(caller.token, instanceId, dataId, { tags }, element.version)).tags ?? [];
    } catch (error) {
      if (attempt === MAX_ATTEMPTS || !isDomainError(error) || error.code !== 'VERSION_MISMATCH') throw error;
    }
  }
}
