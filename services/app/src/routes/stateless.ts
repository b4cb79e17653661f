import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { serializeFormData } from '@forms/app-definition';
import { Type } from '@sinclair/typebox';
import { PartyId } from '@forms/contracts';
import { formModel } from '../domain/app-context';
import { toAltinnIssues } from '../domain/issues';
import { anonymousModel, calculateStateless, prefillStateless, statelessPartyOf } from '../domain/stateless';
import { validateStateless } from '../domain/validation';
import { callerOf } from '../http/request';
import { FormDataBody, ValidationIssues, problems } from './schemas';

const tags = ['Stateless'];
const DataType = Type.String({ minLength: 1, maxLength: 64 });
const DataTypeQuery = Type.Object(
  {
    dataType: DataType,
    partyId: Type.Optional({ ...PartyId, description: 'The party acted for; the `party: partyid:<id>` header says the same, as in Altinn' }),
    language: Type.Optional(Type.String({ maxLength: 8 })),
  },
  { additionalProperties: false },
);
const PartyHeader = Type.Object({ party: Type.Optional(Type.String({ maxLength: 64, description: 'partyid:<id> (Altinn)' })) });
/** The model as JSON or, as in Altinn, XML. */
const ModelBody = { content: { 'application/json': { schema: FormDataBody }, 'application/xml': { schema: { type: 'string' } }, 'text/xml': { schema: { type: 'string' } } } };
const ModelAnswer = {
  description: 'The model, as JSON or (Accept: application/xml) XML',
  content: { 'application/json': { schema: FormDataBody }, 'application/xml': { schema: { type: 'string' } } },
};

/** The model in the representation the caller accepts: XML when it asks for it, else JSON. */
function sendModel(request: FastifyRequest, reply: FastifyReply, dataType: string, data: Record<string, unknown>) {
  if (!/\b(application|text)\/xml\b/.test(request.headers.accept ?? '')) return reply.send(data);
  return reply.type('application/xml; charset=utf-8').send(serializeFormData(data, 'xml', formModel(request.appContext, dataType)));
}

const AnonymousQuery = Type.Object({ dataType: DataType, language: Type.Optional(Type.String({ maxLength: 8 })) }, { additionalProperties: false });

function statelessCall(request: FastifyRequest) {
  const caller = callerOf(request);
  const { partyId } = request.query as { partyId?: string };
  const party = request.headers.party;
  return { caller, partyId: statelessPartyOf(caller, partyId, typeof party === 'string' ? party : undefined) };
}

/** The app's rules without an instance: calculate, prefill and validate form data; anonymously where a data type allows it. */
const statelessRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // XML models are read as text and parsed against the model (no DTDs), as form data is.
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string', bodyLimit: app.appContext.maxFormDataBytes }, (_request, text, done) => done(null, text));

  app.post(
    '/v1/data',
    {
      schema: {
        tags,
        summary: 'Run calculation on form data and answer with the calculated model, without an instance',
        querystring: DataTypeQuery,
        headers: PartyHeader,
        body: ModelBody,
        response: { 200: ModelAnswer, ...problems(400, 401, 403, 415) },
      },
    },
    async (request, reply) => {
      const { caller, partyId } = statelessCall(request);
      return sendModel(request, reply, request.query.dataType, await calculateStateless(request.appContext, caller, request.query.dataType, request.body, partyId));
    },
  );

  app.get(
    '/v1/data',
    {
      schema: { tags, summary: 'A prefilled, calculated model, without an instance', querystring: DataTypeQuery, headers: PartyHeader, response: { 200: ModelAnswer, ...problems(400, 401, 403) } },
    },
    async (request, reply) => {
      const { caller, partyId } = statelessCall(request);
      return sendModel(request, reply, request.query.dataType, await prefillStateless(request.appContext, caller, request.query.dataType, partyId));
    },
  );

  app.post(
    '/v1/data/validate',
    {
      schema: {
        tags,
        summary: 'Validate form data against the model and the rules, without an instance',
        querystring: DataTypeQuery,
        headers: PartyHeader,
        body: FormDataBody,
        response: { 200: ValidationIssues, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { caller, partyId } = statelessCall(request);
      anonymousModel(request.appContext, request.query.dataType, false);
      return toAltinnIssues(await validateStateless(request.appContext, caller, request.query.dataType, request.body, partyId));
    },
  );

  app.post(
    '/v1/data/anonymous',
    {
      config: { auth: false },
      schema: {
        tags,
        summary: 'Calculation without a token, for data types with allowAnonymousOnStateless',
        querystring: AnonymousQuery,
        body: ModelBody,
        response: { 200: ModelAnswer, ...problems(400, 403, 415) },
      },
    },
    async (request, reply) => {
      anonymousModel(request.appContext, request.query.dataType, true);
      return sendModel(request, reply, request.query.dataType, await calculateStateless(request.appContext, undefined, request.query.dataType, request.body, ''));
    },
  );

  app.get(
    '/v1/data/anonymous',
    {
      config: { auth: false },
      schema: { tags, summary: 'A prefilled model without a token, for data types with allowAnonymousOnStateless', querystring: AnonymousQuery, response: { 200: ModelAnswer, ...problems(400, 403) } },
    },
    async (request, reply) => {
      anonymousModel(request.appContext, request.query.dataType, true);
      return sendModel(request, reply, request.query.dataType, await prefillStateless(request.appContext, undefined, request.query.dataType, ''));
    },
  );
};

export default statelessRoutes;
