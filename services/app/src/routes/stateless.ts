import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DomainError, PartyId } from '@forms/contracts';
import { formModel } from '../domain/app-context';
import { calculate, parseAndCheck } from '../domain/form-data';
import { validateStateless } from '../domain/validation';
import { callerOf } from '../http/request';
import type { Caller } from '../domain/app-context';
import { FormDataBody, ValidationIssues, problems } from './schemas';

const tags = ['Stateless'];
const DataTypeQuery = Type.Object(
  { dataType: Type.String({ minLength: 1, maxLength: 64 }), partyId: Type.Optional(PartyId) },
  { additionalProperties: false },
);

/**
 * The party the stateless call is for: only one the caller may act for, that is its own. Prefill may read
 * registers about the party, so another party's id (or an org, which acts for no party) is refused.
 */
function partyOf(caller: Caller, partyId: string | undefined): string {
  const { principal } = caller;
  if (principal.kind === 'org') throw new DomainError('forbidden', 'PARTY_NOT_ALLOWED', 'An organisation acts for no party here; use a party token.');
  if (partyId !== undefined && partyId !== principal.partyId) {
    throw new DomainError('forbidden', 'PARTY_NOT_ALLOWED', `You may act for party ${principal.partyId} only.`);
  }
  return principal.partyId;
}

/** The app's rules without an instance: calculate, prefill and validate form data. */
const statelessRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.appContext;

  app.post(
    '/v1/data',
    {
      schema: {
        tags,
        summary: 'Run calculation on form data and return the model, without an instance',
        querystring: DataTypeQuery,
        body: FormDataBody,
        response: { 200: Type.Object({ data: FormDataBody, changedFields: Type.Record(Type.String(), Type.Unknown()) }), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const model = formModel(ctx, request.query.dataType);
      const data = parseAndCheck(model, JSON.stringify(request.body), 'json');
      return calculate(ctx, caller, request.query.dataType, data, partyOf(caller, request.query.partyId));
    },
  );

  app.get(
    '/v1/data',
    {
      schema: { tags, summary: 'A prefilled model, without an instance', querystring: DataTypeQuery, response: { 200: FormDataBody, ...problems(400, 401, 403) } },
    },
    async (request) => {
      const caller = callerOf(request);
      formModel(ctx, request.query.dataType);
      const partyId = partyOf(caller, request.query.partyId);
      const prefilled = (await ctx.definition.rules.prefill?.(request.query.dataType, {
        appId: ctx.definition.metadata.id,
        principal: caller.principal,
        instanceOwnerPartyId: partyId,
      })) ?? {};
      return (await calculate(ctx, caller, request.query.dataType, prefilled, partyId)).data;
    },
  );

  app.post(
    '/v1/data/validate',
    {
      schema: {
        tags,
        summary: 'Validate form data against the model and the rules, without an instance',
        querystring: DataTypeQuery,
        body: FormDataBody,
        response: { 200: ValidationIssues, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      formModel(ctx, request.query.dataType);
      return validateStateless(ctx, caller, request.query.dataType, request.body, partyOf(caller, request.query.partyId));
    },
  );
};

export default statelessRoutes;
