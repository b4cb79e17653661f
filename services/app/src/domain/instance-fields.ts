import { getAtPath, parseFieldPath } from '@forms/app-definition';
import type { DataField, Instance } from '@forms/contracts';
import type { AppContext, Caller } from './app-context';

/** Storage keeps a value of at most this many characters. */
const MAX_VALUE_LENGTH = 1000;

/** A form field as the text storage keeps: numbers and booleans written out; a missing field, a list or an object removes the key. */
function fieldText(data: Record<string, unknown>, path: string): string | null {
  const value = getAtPath(data, parseFieldPath(path) ?? []);
  if (typeof value === 'string') return value === '' ? null : value.slice(0, MAX_VALUE_LENGTH);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** The entries of `fields` for `dataType` whose text differs from what `current` holds (null: remove the key). */
function changes(fields: readonly DataField[] | undefined, dataType: string, data: Record<string, unknown>, current: Record<string, string | null> | undefined) {
  const changed: Record<string, string | null> = {};
  for (const field of fields ?? []) {
    if (field.dataTypeId !== dataType) continue;
    const text = fieldText(data, field.path);
    if (text !== (current?.[field.id] ?? null)) changed[field.id] = text;
  }
  return Object.keys(changed).length === 0 ? undefined : changed;
}

/**
 * Copies the form fields the app's metadata names (Altinn's `dataFields` into `dataValues`, `presentationFields` into
 * `presentationTexts`) from a form just saved to its instance, where they changed. It runs after the form is stored
 * and changes only these derived values: if storage cannot take them now, the form stays saved, the failure is
 * logged, and the next save of the form sets them. Answers the instance as storage then has it.
 */
export async function copyFormFields(ctx: AppContext, caller: Caller, instance: Instance, dataType: string, data: Record<string, unknown>): Promise<Instance> {
  const { dataFields, presentationFields } = ctx.definition.metadata;
  const values = changes(dataFields, dataType, data, instance.dataValues);
  const texts = changes(presentationFields, dataType, data, instance.presentationTexts);
  let updated = instance;
  try {
    if (values) updated = await ctx.storage.setDataValues(caller.token, instance.id, values);
    if (texts) updated = await ctx.storage.setPresentationTexts(caller.token, instance.id, texts);
  } catch (error) {
    ctx.log.warn({ instanceId: instance.id, dataType, err: error }, 'form fields could not be copied to the instance; the next save of the form copies them');
  }
  return updated;
}
