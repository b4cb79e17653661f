import { safeFilename } from '@forms/content-check';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import multipart, { type MultipartFile, type MultipartValue } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { DataValues, DomainError, Instance, PartyId, Timestamp } from '@forms/contracts';
import { etagOf, multipartParts } from '@forms/service-kit';
import { AppErrors, loadInstance } from '../domain/app-context';
import { toAltinnIssues } from '../domain/issues';
import { instantiate, type DataPart, type InstanceTemplate } from '../domain/instantiation';
import { copiedData } from '../domain/instance-copy';
import { validateCurrentTask } from '../domain/validation';
import { readText } from '../domain/form-data';
import { callerOf, instanceIdOf } from '../http/request';
import { DataParams, INSTANCE_PATH, InstanceParams, ValidationIssues, problems } from './schemas';

const tags = ['Instances'];

export const InstanceOwnerTemplate = Type.Optional(
      Type.Object({
        partyId: Type.Optional(PartyId),
        personNumber: Type.Optional(Type.String({ pattern: '^[0-9]{11}$' })),
        organisationNumber: Type.Optional(Type.String({ pattern: '^[0-9]{9}$' })),
      }),
    );

const Template = Type.Object(
  {
    appId: Type.Optional(Type.String({ maxLength: 128, description: "As in Altinn's template: when given, this app's id" })),
    org: Type.Optional(Type.String({ maxLength: 64, description: "When given, this app's org" })),
    instanceOwner: InstanceOwnerTemplate,
    dueBefore: Type.Optional(Timestamp),
    visibleAfter: Type.Optional(Timestamp),
    dataValues: Type.Optional(DataValues),
  },
  { additionalProperties: false },
);

/** Altinn's InstansiationInstance: the owner, times, and form fields to prefill by dotted path. */
const InstansiationInstance = Type.Object(
  {
    instanceOwner: InstanceOwnerTemplate,
    dueBefore: Type.Optional(Timestamp),
    visibleAfter: Type.Optional(Timestamp),
    prefill: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.Unknown(), { description: 'Field path (applicant.name) to value, set on the auto-created form data' })),
    sourceInstanceId: Type.Optional(
      Type.Union([Type.String({ pattern: '^[^/]{1,64}/[0-9a-fA-F-]{36}$' }), Type.Null()], {
        description: "An archived instance of the same owner to start from (`partyId/guid`): its first task's form data, and attachments if the app's copyInstanceSettings say so",
      }),
    ),
  },
  { additionalProperties: false, title: 'InstansiationInstance' },
);

/** The same checks (formats included) as Fastify applies to a JSON body, for the template part of a multipart body. */
const checkTemplate = addFormats(new Ajv({ strict: false })).compile<InstanceTemplate>(Template);

const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Storage enforces each data type's own size limit while streaming; this only bounds a runaway request. */
const MAX_PART_BYTES = 1024 * 1024 * 1024;

function partyIdFor(request: FastifyRequest, queryPartyId: string | undefined, template: InstanceTemplate): string {
  const principal = request.principal;
  const templatePartyId = template.instanceOwner?.partyId;
  // Two owners named is ambiguous: refused, as Altinn does, rather than one silently winning.
  if (queryPartyId !== undefined && templatePartyId !== undefined && queryPartyId !== templatePartyId) throw AppErrors.partyMismatch(queryPartyId, templatePartyId);
  const partyId = queryPartyId ?? templatePartyId ?? (principal && principal.kind !== 'org' ? principal.partyId : undefined);
  if (!partyId) throw new DomainError('invalid', 'INSTANCE_OWNER_REQUIRED', 'Give instanceOwnerPartyId.');
  return partyId;
}

type Part = MultipartFile | MultipartValue;

async function partText(part: Part, limitBytes: number): Promise<string> {
  if (part.type === 'file') return readText(part.file, limitBytes);
  return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
}

function parseTemplate(raw: string): InstanceTemplate {
  let template: unknown;
  try {
    template = JSON.parse(raw);
  } catch {
    throw new DomainError('invalid', 'MALFORMED_JSON', "The 'instance' part is not valid JSON.");
  }
  if (!checkTemplate(template)) {
    throw new DomainError('invalid', 'VALIDATION_FAILED', "The 'instance' part does not match the instance template schema.");
  }
  return template;
}

/** Reads `instance` (the template) and then the data parts of a multipart instantiation, in order. */
async function multipartRequest(request: FastifyRequest): Promise<{ template: InstanceTemplate; parts: AsyncIterable<DataPart> }> {
  const iterator = multipartParts(request, { limits: { fileSize: MAX_PART_BYTES, parts: 50, fieldSize: MAX_TEMPLATE_BYTES } });
  const first = await iterator.next();
  if (first.done || first.value.fieldname !== 'instance') {
    throw new DomainError('invalid', 'INSTANCE_PART_REQUIRED', "The first part of a multipart instantiation must be 'instance'.");
  }
  const template = await partText(first.value, MAX_TEMPLATE_BYTES).then(parseTemplate);
  async function* dataParts(): AsyncGenerator<DataPart> {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const part = next.value;
      if (part.type === 'file') {
        const filename = part.filename ? safeFilename(part.filename) : undefined;
        yield { dataType: part.fieldname, contentType: part.mimetype, ...(filename && { filename }), body: part.file };
      } else {
        // A part without a filename arrives as a field (JSON fields already parsed by @fastify/multipart).
        yield { dataType: part.fieldname, contentType: part.mimetype, body: Readable.from([Buffer.from(await partText(part, MAX_TEMPLATE_BYTES))]) };
      }
    }
  }
  return { template, parts: dataParts() };
}

/** Creating instances and reading their status. */
const instanceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(multipart, { throwFileSizeLimit: true });

  app.post(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Create an instance',
        description:
          "JSON body (the instance template), or multipart/form-data with an 'instance' part first and then one file part per data element, named by its data type.",
        querystring: Type.Object({ instanceOwnerPartyId: Type.Optional(PartyId) }, { additionalProperties: false }),
        // Only JSON bodies are checked here; a multipart body is read part by part and its template checked then.
        body: { content: { 'application/json': { schema: Template } } },
        response: { 201: Instance, ...problems(400, 401, 403, 404, 409, 413, 415, 503, 504) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!request.isMultipart()) {
        const template = (request.body ?? {}) as InstanceTemplate;
        const instance = await instantiate(request.appContext, caller, partyIdFor(request, request.query.instanceOwnerPartyId, template), template);
        reply.code(201).header('etag', etagOf(instance.version));
        return instance;
      }
      const { template, parts } = await multipartRequest(request);
      const instance = await instantiate(request.appContext, caller, partyIdFor(request, request.query.instanceOwnerPartyId, template), template, parts);
      reply.code(201).header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.post(
    '/instances/create',
    {
      schema: {
        tags,
        summary: "Create an instance with prefilled form fields, or as a copy of an archived one (Altinn's InstansiationInstance)",
        body: InstansiationInstance,
        response: { 201: Instance, ...problems(400, 401, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      const { sourceInstanceId, prefill, ...template } = request.body;
      const caller = callerOf(request);
      const partyId = partyIdFor(request, undefined, template);
      const copied = sourceInstanceId ? await copiedData(request.appContext, caller, partyId, sourceInstanceId, prefill) : undefined;
      const instance = await instantiate(request.appContext, caller, partyId, { ...template, ...(prefill && { prefill }) }, copied);
      reply.code(201).header('etag', etagOf(instance.version));
      return instance;
    },
  );

  app.get(
    INSTANCE_PATH,
    {
      schema: {
        tags,
        summary: 'The instance: process state and data elements',
        params: InstanceParams,
        response: { 200: Instance, ...problems(401, 403, 404, 503, 504) },
      },
    },
    async (request, reply) => {
      const { instance, version } = await loadInstance(request.appContext, callerOf(request), instanceIdOf(request.params));
      reply.header('etag', etagOf(version));
      return instance;
    },
  );

  app.get(
    `${INSTANCE_PATH}/validate`,
    {
      schema: {
        tags,
        summary: 'Validate the whole instance in its current task (409 once the process has ended)',
        params: InstanceParams,
        querystring: Type.Object({ language: Type.Optional(Type.String({ maxLength: 8 })) }),
        response: { 200: ValidationIssues, ...problems(401, 403, 404, 409) },
      },
    },
    async (request) => toAltinnIssues(await validateCurrentTask(request.appContext, callerOf(request), instanceIdOf(request.params))),
  );

  app.get(
    `${INSTANCE_PATH}/data/:dataGuid/validate`,
    {
      schema: {
        tags,
        summary: 'Validate one data element in the current task (409 once the process has ended)',
        params: DataParams,
        querystring: Type.Object({ language: Type.Optional(Type.String({ maxLength: 8 })) }),
        response: { 200: ValidationIssues, ...problems(401, 403, 404, 409) },
      },
    },
    async (request) =>
      toAltinnIssues(await validateCurrentTask(request.appContext, callerOf(request), instanceIdOf(request.params), request.params.dataGuid.toLowerCase())),
  );
};

export default instanceRoutes;
