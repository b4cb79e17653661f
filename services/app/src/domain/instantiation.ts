import { isRuleViolation, startProcess, typeFieldText, type FormModel } from '@forms/app-definition';
import type { InitialDataPart } from '@forms/client';
import { DomainError, timeOrderedUuid, type DataValues, type Instance, type InstanceCreate, type InstanceOwner } from '@forms/contracts';
import { AppErrors, ruleContext, type AppContext, type Caller } from './app-context';
import { checkedContent, type BinaryContent } from './attachments';
import { assertMayChangeData, dataTypeOf } from './data-access';
import { calculated, checkFormData, formatOf, parseAndCheck, readText, STORED_FORM_CONTENT_TYPE } from './form-data';
import { copyFormFields } from './instance-fields';

export interface InstanceTemplate {
  /** Altinn's templates name the app (and its org); another app's id is refused, never silently ignored. */
  appId?: string;
  org?: string;
  instanceOwner?: Omit<InstanceOwner, 'partyId'> & { partyId?: string };
  dueBefore?: string;
  visibleAfter?: string;
  dataValues?: DataValues;
  /** Altinn's InstansiationInstance prefill: dotted field paths and their values, set on the auto-created form data. */
  prefill?: Record<string, unknown>;
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
 * Creates an instance: checks the party type and the app's onInstantiate rule, starts the process, and
 * sends storage the instance together with its initial data (the data parts sent along, checked and
 * calculated, and prefilled form data for auto-created types) in one call, which storage stores all or
 * nothing. The instance guid is chosen here and sent along, so storage recognises a repeated request
 * and a hang or a failure can never leave an instance without its form. Storage answers with the
 * instance; nothing is read back.
 */
export async function instantiate(
  ctx: AppContext,
  caller: Caller,
  partyId: string,
  template: InstanceTemplate,
  parts: AsyncIterable<DataPart> = emptyParts(),
): Promise<Instance> {
  const { id: appId } = ctx.definition.metadata;
  if ((template.appId !== undefined && template.appId !== appId) || (template.org !== undefined && template.org !== ctx.definition.org)) {
    throw new DomainError('invalid', 'APP_MISMATCH', `The template names another app than ${appId}.`);
  }
  assertPartyTypeAllowed(ctx, partyTypeOf(caller, template.instanceOwner));
  const rules = ruleContext(ctx, caller, partyId);
  try {
    await ctx.definition.rules.onInstantiate?.(rules);
  } catch (error) {
    if (isRuleViolation(error)) throw new DomainError('forbidden', error.code, error.message);
    throw error;
  }

  const { partyId: _ignored, ...ownerIdentifiers } = template.instanceOwner ?? {};
  const create: InstanceCreate = {
    instanceOwner: { ...ownerIdentifiers, partyId },
    process: startProcess(ctx.definition.process, ctx.clock()),
    // Time-ordered, as storage's own ids (ADR 0019): new instances land at the end of its indexes.
    instanceGuid: timeOrderedUuid(),
    ...(template.dueBefore && { dueBefore: template.dueBefore }),
    ...(template.visibleAfter && { visibleAfter: template.visibleAfter }),
    ...(template.dataValues && { dataValues: template.dataValues }),
  };
  // What the rules see while the initial data is prepared: the instance as storage is about to create it.
  const provisional = provisionalInstance(ctx, create, caller);

  // The forms sent along, for the form fields the app copies to the instance once it exists.
  const forms: { dataType: string; data: Record<string, unknown> }[] = [];
  const formPart = async (dataType: string, data: Record<string, unknown>): Promise<InitialDataPart> => {
    const form = await calculated(ctx, caller, dataType, data, provisional.instanceOwner.partyId, provisional);
    forms.push({ dataType, data: form });
    return { dataType, contentType: STORED_FORM_CONTENT_TYPE, body: Buffer.from(JSON.stringify(form)) };
  };

  async function* initialData(): AsyncGenerator<InitialDataPart> {
    const provided = new Set<string>();
    for await (const part of parts) {
      provided.add(part.dataType);
      assertMayChangeData(caller, provisional, dataTypeOf(ctx, part.dataType));
      const model = ctx.definition.models.get(part.dataType);
      if (model) {
        const data = parseAndCheck(model, await readText(part.body, ctx.maxFormDataBytes), formatOf(part.contentType));
        yield await formPart(part.dataType, data);
      } else {
        // A data type of the app (checked above) without a model: an attachment.
        yield { dataType: part.dataType, contentType: part.contentType, ...(part.filename !== undefined && { filename: part.filename }), body: await checkedContent(part) };
      }
    }
    for (const type of ctx.definition.metadata.dataTypes) {
      if (type.appLogic?.autoCreate && ctx.definition.models.has(type.id) && !provided.has(type.id)) {
        const prefilled = (await ctx.definition.rules.prefill?.(type.id, { ...rules, instance: provisional })) ?? {};
        const model = ctx.definition.models.get(type.id);
        const data = template.prefill && model ? checkFormData(model, withPrefill(model, prefilled, template.prefill)) : prefilled;
        yield await formPart(type.id, data);
      }
    }
  }
  let instance = await ctx.storage.createInstance(caller.token, ctx.definition.metadata.id, create, initialData());
  for (const { dataType, data } of forms) instance = await copyFormFields(ctx, caller, instance, dataType, data);
  return instance;
}

function provisionalInstance(ctx: AppContext, create: InstanceCreate, caller: Caller): Instance {
  const appId = ctx.definition.metadata.id;
  const id = `${create.instanceOwner.partyId}/${create.instanceGuid}`;
  const now = ctx.clock();
  const who = caller.principal.kind === 'org' ? caller.principal.org : caller.principal.kind === 'user' ? caller.principal.userId : caller.principal.systemId;
  return {
    id,
    instanceOwner: create.instanceOwner,
    appId,
    org: appId.split('/')[0] ?? '',
    selfLinks: { platform: '' },
    dueBefore: create.dueBefore ?? null,
    visibleAfter: create.visibleAfter ?? null,
    process: create.process ?? {},
    status: { isArchived: false, isSoftDeleted: false, isHardDeleted: false, readStatus: 'Unread', substatus: null },
    completeConfirmations: [],
    data: [],
    dataValues: create.dataValues ?? {},
    version: 0,
    created: now,
    createdBy: who,
    lastChanged: now,
    lastChangedBy: who,
  };
}

/**
 * `data` with the request's prefill (Altinn's InstansiationInstance.prefill) set on it: dotted paths to values, a value
 * sent as text (Altinn's clients send every one as a string) typed by the model as XML text is.
 */
export function withPrefill(model: FormModel, data: Record<string, unknown>, prefill: Record<string, unknown>): Record<string, unknown> {
  const typed = Object.fromEntries(Object.entries(prefill).map(([path, value]) => [path, typeFieldText(model, path, value)]));
  return withFields(data, typed);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A copy of `data` with each dotted path (`applicant.name`) set to its value; objects on the way are created. */
export function withFields(data: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  const result = structuredClone(data);
  for (const [path, value] of Object.entries(fields)) {
    const keys = path.split('.');
    if (keys.some((key) => key === '' || FORBIDDEN_KEYS.has(key))) throw new DomainError('invalid', 'INVALID_PREFILL', `'${path}' is not a field path.`);
    let node: Record<string, unknown> = result;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
  return result;
}

async function* emptyParts(): AsyncGenerator<DataPart> {}
