import { isRuleViolation, startProcess } from '@forms/app-definition';
import { DomainError, type DataValues, type Instance, type InstanceOwner } from '@forms/contracts';
import { AppErrors, ruleContext, type AppContext, type Caller } from './app-context';
import { assertAttachmentType, storeAttachment, type BinaryContent } from './attachments';
import { calculate, formatOf, parseAndCheck, readText, STORED_FORM_CONTENT_TYPE } from './form-data';

export interface InstanceTemplate {
  instanceOwner?: Omit<InstanceOwner, 'partyId'> & { partyId?: string };
  dueBefore?: string;
  visibleAfter?: string;
  dataValues?: DataValues;
}

/** A data part sent together with the instance (multipart instantiation). */
export interface DataPart extends BinaryContent {
  dataType: string;
}

type PartyType = 'person' | 'organisation';

/**
 * Without a party register, the party type follows from who calls: a user acting for itself is a person, an
 * end-user system acts for an organisation. What a template claims never changes it: identifiers of the other
 * kind of party are refused, so a system cannot pass as a person by sending a personNumber.
 */
function partyTypeOf(caller: Caller, owner: InstanceTemplate['instanceOwner']): PartyType {
  const partyType: PartyType = caller.principal.kind === 'user' ? 'person' : 'organisation';
  const claimed = owner?.personNumber ? 'person' : owner?.organisationNumber ? 'organisation' : undefined;
  if ((owner?.personNumber && owner.organisationNumber) || (claimed !== undefined && claimed !== partyType)) {
    throw new DomainError('invalid', 'OWNER_IDENTIFIER_MISMATCH', `The instance owner is a ${partyType}; the template names another kind of party.`);
  }
  return partyType;
}

function assertPartyTypeAllowed(ctx: AppContext, partyType: PartyType): void {
  const allowed = ctx.definition.metadata.partyTypesAllowed;
  // All false means no restriction, as in Altinn.
  const restricted = allowed && Object.values(allowed).some(Boolean);
  if (restricted && !allowed[partyType]) throw AppErrors.partyTypeNotAllowed(partyType);
}

/**
 * Creates an instance: checks the party type and the app's onInstantiate rule, starts the process, stores
 * the data parts sent along and prefilled form data for auto-created types. If any of it fails, the
 * instance is removed again, so a failed request leaves nothing behind.
 */
export async function instantiate(
  ctx: AppContext,
  caller: Caller,
  partyId: string,
  template: InstanceTemplate,
  parts: AsyncIterable<DataPart> = emptyParts(),
): Promise<Instance> {
  assertPartyTypeAllowed(ctx, partyTypeOf(caller, template.instanceOwner));
  const rules = ruleContext(ctx, caller, partyId);
  try {
    await ctx.definition.rules.onInstantiate?.(rules);
  } catch (error) {
    if (isRuleViolation(error)) throw new DomainError('forbidden', error.code, error.message);
    throw error;
  }

  const { partyId: _ignored, ...ownerIdentifiers } = template.instanceOwner ?? {};
  const instance = await ctx.storage.createInstance(caller.token, ctx.definition.metadata.id, {
    instanceOwner: { ...ownerIdentifiers, partyId },
    process: startProcess(ctx.definition.process, ctx.clock()),
    ...(template.dueBefore && { dueBefore: template.dueBefore }),
    ...(template.visibleAfter && { visibleAfter: template.visibleAfter }),
    ...(template.dataValues && { dataValues: template.dataValues }),
  });
  try {
    const provided = new Set<string>();
    for await (const part of parts) {
      provided.add(part.dataType);
      const model = ctx.definition.models.get(part.dataType);
      if (model) {
        const format = formatOf(part.contentType);
        const data = parseAndCheck(model, await readText(part.body, ctx.maxFormDataBytes), format);
        await storeFormData(ctx, caller, instance, part.dataType, data);
      } else {
        assertAttachmentType(ctx, part.dataType);
        await storeAttachment(ctx, caller, instance.id, part.dataType, part);
      }
    }
    for (const type of ctx.definition.metadata.dataTypes) {
      if (type.appLogic?.autoCreate && ctx.definition.models.has(type.id) && !provided.has(type.id)) {
        const prefilled = (await ctx.definition.rules.prefill?.(type.id, { ...rules, instance })) ?? {};
        await storeFormData(ctx, caller, instance, type.id, prefilled);
      }
    }
    return (await ctx.storage.getInstance(caller.token, instance.id)).value;
  } catch (error) {
    const cleanup = ctx.storage.deleteInstance(caller.token, instance.id, { hard: true }).catch((cleanupError: unknown) => {
      // Storage went away mid-way: the caller gets the original error; operators need to know what is left.
      ctx.log.error({ err: cleanupError, instanceId: instance.id }, 'a failed instantiation left its instance in storage; delete it with ?hard=true');
    });
    // A storage that stopped answering would make the caller wait a second timeout for the clean-up: answer
    // now (504 within one timeout) and let the clean-up finish, or be logged, on its own.
    if (!(error instanceof DomainError && error.kind === 'timeout')) await cleanup;
    throw error;
  }
}

async function storeFormData(ctx: AppContext, caller: Caller, instance: Instance, dataType: string, data: Record<string, unknown>): Promise<void> {
  const calculated = await calculate(ctx, caller, dataType, data, instance.instanceOwner.partyId, instance);
  const payload = Buffer.from(JSON.stringify(calculated.data));
  await ctx.storage.uploadData(caller.token, instance.id, dataType, payload, { contentType: STORED_FORM_CONTENT_TYPE, contentLength: payload.length });
}

async function* emptyParts(): AsyncGenerator<DataPart> {}
