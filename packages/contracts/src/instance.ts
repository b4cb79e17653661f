import { Type, type Static } from '@sinclair/typebox';
import { AppId, Guid, InstanceId, Nullable, PartyId, Slug, Timestamp } from './common';
import { DataElement, SelfLinks } from './data-element';
import { ProcessState } from './process';

/**
 * The base64 alphabet, padding at the end only. (Whole groups of four are checked where the content is decoded:
 * a pattern of repeated groups takes the regular expression engine a tenth of a second per megabyte.)
 */
const BASE64 = '^[A-Za-z0-9+/]*={0,2}$';

export const InstanceOwner = Type.Object({
  partyId: PartyId,
  personNumber: Type.Optional(Type.String({ pattern: '^[0-9]{11}$' })),
  organisationNumber: Type.Optional(Type.String({ pattern: '^[0-9]{9}$' })),
});
export type InstanceOwner = Static<typeof InstanceOwner>;

export const ReadStatus = Type.Union([Type.Literal('Unread'), Type.Literal('Read'), Type.Literal('UpdatedSinceLastReview')]);
export type ReadStatus = Static<typeof ReadStatus>;

export const Substatus = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type Substatus = Static<typeof Substatus>;

export const InstanceStatus = Type.Object({
  isArchived: Type.Boolean(),
  archived: Type.Optional(Nullable(Timestamp)),
  isSoftDeleted: Type.Boolean(),
  softDeleted: Type.Optional(Nullable(Timestamp)),
  /** The owner deleted the instance after its process ended: hidden from the owner's lists, still the org's to handle. */
  isHiddenFromOwner: Type.Optional(Type.Boolean()),
  isHardDeleted: Type.Boolean(),
  hardDeleted: Type.Optional(Nullable(Timestamp)),
  readStatus: ReadStatus,
  substatus: Type.Optional(Nullable(Substatus)),
});
export type InstanceStatus = Static<typeof InstanceStatus>;

export const CompleteConfirmation = Type.Object({
  stakeholderId: Type.String(),
  confirmedOn: Timestamp,
});
export type CompleteConfirmation = Static<typeof CompleteConfirmation>;

export const DataValues = Type.Record(Type.String({ maxLength: 100 }), Nullable(Type.String({ maxLength: 1000 })));
export type DataValues = Static<typeof DataValues>;

/** Short texts an end user's inbox shows for the instance; a null or empty value removes the key. */
export const PresentationTexts = Type.Record(Type.String({ maxLength: 100 }), Nullable(Type.String({ maxLength: 1000 })));
export type PresentationTexts = Static<typeof PresentationTexts>;

export const Instance = Type.Object(
  {
    id: InstanceId,
    instanceOwner: InstanceOwner,
    appId: AppId,
    org: Slug,
    selfLinks: SelfLinks,
    dueBefore: Type.Optional(Nullable(Timestamp)),
    visibleAfter: Type.Optional(Nullable(Timestamp)),
    process: ProcessState,
    status: InstanceStatus,
    completeConfirmations: Type.Array(CompleteConfirmation),
    data: Type.Array(DataElement),
    dataValues: DataValues,
    presentationTexts: Type.Optional(Type.Record(Type.String(), Type.String())),
    version: Type.Integer({ minimum: 1 }),
    created: Timestamp,
    createdBy: Type.String(),
    lastChanged: Timestamp,
    lastChangedBy: Type.String(),
  },
  { title: 'Instance' },
);
export type Instance = Static<typeof Instance>;

/** Body of `POST /instances`: what a caller may set when creating an instance. */
export const InstanceCreate = Type.Object(
  {
    instanceOwner: InstanceOwner,
    dueBefore: Type.Optional(Timestamp),
    visibleAfter: Type.Optional(Timestamp),
    process: Type.Optional(ProcessState),
    dataValues: Type.Optional(DataValues),
    presentationTexts: Type.Optional(PresentationTexts),
    instanceGuid: Type.Optional({
      ...Guid,
      description:
        'Chosen by the caller to make creation idempotent: a repeated request with the same guid, owner and app answers 200 with the instance the first one created.',
    }),
  },
  { additionalProperties: false },
);
export type InstanceCreate = Static<typeof InstanceCreate>;

/** A data element's content sent inline with a new instance: small content already in memory, a form's JSON say. */
export const InitialDataInline = Type.Object(
  {
    dataType: Type.String({ minLength: 1, maxLength: 255, description: 'The data type of the element' }),
    contentType: Type.String({ minLength: 1, maxLength: 255 }),
    filename: Type.Optional(Type.String({ maxLength: 255 })),
    content: Type.String({ contentEncoding: 'base64', pattern: BASE64, description: 'The content, base64-encoded with its padding' }),
  },
  { additionalProperties: false },
);
export type InitialDataInline = Static<typeof InitialDataInline>;

/** A JSON instantiation: the instance, and optionally its initial data inline (the one-call alternative to multipart). */
export const InstanceCreation = Type.Object(
  {
    ...InstanceCreate.properties,
    data: Type.Optional(
      Type.Array(InitialDataInline, {
        maxItems: 50,
        description: 'Initial data elements, stored with the instance or not at all (as the parts of a multipart creation)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type InstanceCreation = Static<typeof InstanceCreation>;

export const InstanceQueryResponse = Type.Object(
  {
    count: Type.Integer(),
    self: Type.String(),
    next: Nullable(Type.String()),
    instances: Type.Array(Instance),
  },
  { title: 'InstanceQueryResponse' },
);
export type InstanceQueryResponse = Static<typeof InstanceQueryResponse>;

/** Altinn's SimpleInstance: an entry of a party's unfinished instances (the app's `GET instances/{partyId}/active`). */
export const SimpleInstance = Type.Object(
  {
    id: Type.String(),
    presentationTexts: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
    dueBefore: Type.Union([Type.String(), Type.Null()]),
    lastChanged: Type.String({ format: 'date-time' }),
    lastChangedBy: Type.String(),
  },
  { title: 'SimpleInstance' },
);
export type SimpleInstance = Static<typeof SimpleInstance>;
