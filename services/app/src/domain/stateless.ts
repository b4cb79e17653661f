import type { FormModel } from '@forms/app-definition';
import { DomainError } from '@forms/contracts';
import { AppErrors, formModel, ruleContext, type AppContext, type Caller } from './app-context';
import { calculated, parseAndCheck } from './form-data';

/**
 * The party a stateless call is for: only one the caller may act for, that is its own. Prefill may read
 * registers about the party, so another party's id (or an org, which acts for no party) is refused. Altinn
 * names it in the `party: partyid:<id>` header; `?partyId=` says the same, and the two must agree.
 */
export function statelessPartyOf(caller: Caller, queryPartyId: string | undefined, partyHeader: string | undefined): string {
  const { principal } = caller;
  let headerPartyId: string | undefined;
  if (partyHeader !== undefined) {
    const match = /^partyid:(\d{1,12})$/i.exec(partyHeader.trim());
    if (!match) throw new DomainError('invalid', 'INVALID_PARTY_HEADER', "The party header is 'partyid:<id>'.");
    headerPartyId = match[1];
  }
  if (queryPartyId !== undefined && headerPartyId !== undefined && queryPartyId !== headerPartyId) {
    throw new DomainError('invalid', 'PARTY_MISMATCH', 'The party header and partyId name different parties.');
  }
  const partyId = headerPartyId ?? queryPartyId;
  if (principal.kind === 'org') throw new DomainError('forbidden', 'PARTY_NOT_ALLOWED', 'An organisation acts for no party here; use a party token.');
  if (partyId !== undefined && partyId !== principal.partyId) {
    throw new DomainError('forbidden', 'PARTY_NOT_ALLOWED', `You may act for party ${principal.partyId} only.`);
  }
  return principal.partyId;
}

/** The form model of `dataType`; for an anonymous call only if the data type allows it. */
export function anonymousModel(ctx: AppContext, dataType: string, anonymous: boolean): FormModel {
  const model = formModel(ctx, dataType);
  const type = ctx.definition.metadata.dataTypes.find((candidate) => candidate.id === dataType);
  if (anonymous && type?.appLogic?.allowAnonymousOnStateless !== true) throw AppErrors.anonymousNotAllowed(dataType);
  return model;
}

/** The model after the app's calculation (Altinn answers with the model itself). `body` is JSON already parsed, or XML text. */
export async function calculateStateless(ctx: AppContext, caller: Caller | undefined, dataType: string, body: unknown, partyId: string): Promise<Record<string, unknown>> {
  const model = formModel(ctx, dataType);
  const data = typeof body === 'string' ? parseAndCheck(model, body, 'xml') : parseAndCheck(model, JSON.stringify(body), 'json');
  return calculated(ctx, caller, dataType, data, partyId);
}

/** The model as the app's prefill gives it, calculated. */
export async function prefillStateless(ctx: AppContext, caller: Caller | undefined, dataType: string, partyId: string): Promise<Record<string, unknown>> {
  formModel(ctx, dataType);
  const prefilled = (await ctx.definition.rules.prefill?.(dataType, ruleContext(ctx, caller, partyId))) ?? {};
  return calculated(ctx, caller, dataType, prefilled, partyId);
}
