import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** ISO-8601 timestamp in UTC, as produced by `Date.prototype.toISOString`. */
export const Timestamp = Type.String({ format: 'date-time' });

export const Guid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'RFC 4122 UUID',
});

export const PartyId = Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'Numeric party id' });

/** Lower-case slug used for org and app names (`nav`, `skd`, `tax-return`). */
export const Slug = Type.String({ pattern: '^[a-z][a-z0-9-]{1,63}$' });

export const AppId = Type.String({ pattern: '^[a-z][a-z0-9-]{1,63}/[a-z][a-z0-9-]{1,63}$', description: '<org>/<app>' });

export const InstanceId = Type.String({
  pattern: '^[1-9][0-9]{0,17}/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: '<instanceOwnerPartyId>/<instanceGuid>',
});

export const LanguageString = Type.Record(Type.String(), Type.String(), { description: 'Text by language code' });

/**
 * A request's id: every service answers with it, takes a well-formed one from its caller as its own, and the app
 * sends its request's id with its calls to storage, so one request is found under one id in every service's log.
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/** RFC 7807 problem details, with a stable machine-readable `code`. */
export const ProblemDetails = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable error code, e.g. INSTANCE_NOT_FOUND' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Unknown())),
  },
  { title: 'ProblemDetails', additionalProperties: true },
);
export type ProblemDetails = Static<typeof ProblemDetails>;

// Null first: with type coercion on, a string branch tried first would turn null into "".
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema]);
