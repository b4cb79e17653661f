import { Type, type Static } from '@sinclair/typebox';
import { AppId, LanguageString, Slug, Timestamp } from './common';

export const PartyTypesAllowed = Type.Object({
  bankruptcyEstate: Type.Boolean({ default: false }),
  organisation: Type.Boolean({ default: false }),
  person: Type.Boolean({ default: false }),
  subUnit: Type.Boolean({ default: false }),
});
export type PartyTypesAllowed = Static<typeof PartyTypesAllowed>;

export const DataType = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }),
    description: Type.Optional(LanguageString),
    allowedContentTypes: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 255 }), { maxItems: 50 })),
    maxSize: Type.Optional(Type.Integer({ minimum: 1, description: 'Maximum size in megabytes' })),
    maxCount: Type.Integer({ minimum: 0, default: 0, description: '0 means unlimited' }),
    minCount: Type.Integer({ minimum: 0, default: 0 }),
    taskId: Type.Optional(Type.String()),
    allowedContributors: Type.Optional(
      Type.Array(Type.String({ pattern: '^(app:owned|org:[a-z0-9][a-z0-9-]{0,63})$' }), {
        maxItems: 10,
        description: "Who besides the app may write elements of this type: `app:owned` (only the app), `org:<org>` (that org and the app); unset: anyone who may write the instance. A type with `appLogic` is always app-owned.",
      }),
    ),
    enableFileScan: Type.Optional(Type.Boolean({ description: 'Scan uploads of this type for malware (as in Altinn)' })),
    allowedKeysForUserDefinedMetadata: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
        maxItems: 100,
        description: "The keys an element of this type's user-defined metadata may have (the app's `user-defined-metadata` route); unset: any",
      }),
    ),
    appLogic: Type.Optional(
      Type.Object({
        classRef: Type.Optional(Type.String()),
        schemaRef: Type.Optional(Type.String()),
        autoCreate: Type.Optional(Type.Boolean()),
        allowAnonymousOnStateless: Type.Optional(Type.Boolean({ description: "The app's stateless API (/v1/data/anonymous) serves this type without a token" })),
      }),
    ),
  },
  { additionalProperties: false },
);
export type DataType = Static<typeof DataType>;

/**
 * Altinn's copyInstanceSettings: a party may start a new instance as a copy of one of its own archived ones
 * (`POST instances/create` with `sourceInstanceId`). The form data of the first task's form types is copied, with
 * the excluded fields left out; attachments of that task only with `includeAttachments`.
 */
export const CopyInstanceSettings = Type.Object(
  {
    enabled: Type.Boolean(),
    excludedDataTypes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100, description: 'Data types never copied' })),
    excludedDataFields: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z_$][A-Za-z0-9_$-]*(\\.[A-Za-z_$][A-Za-z0-9_$-]*)*$', maxLength: 256 }), {
        maxItems: 200,
        description: 'Dotted field paths (applicant.personNumber) left out of copied form data; a path through a list applies to each of its items',
      }),
    ),
    includeAttachments: Type.Optional(Type.Boolean({ description: "Also copy the attachments of the first task's data types" })),
  },
  { additionalProperties: false },
);
export type CopyInstanceSettings = Static<typeof CopyInstanceSettings>;

/**
 * Altinn's DataField: a form field (by dotted path in the form data of `dataTypeId`) copied into the instance's
 * `dataValues` (`dataFields`) or `presentationTexts` (`presentationFields`) under `id` each time the form is saved.
 */
export const DataField = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100 }),
    path: Type.String({ pattern: '^[A-Za-z_$][A-Za-z0-9_$-]*(\\.[A-Za-z_$][A-Za-z0-9_$-]*)*$', maxLength: 256 }),
    dataTypeId: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type DataField = Static<typeof DataField>;

/** What an app owner registers about an app; the platform enforces its data type rules. */
export const ApplicationInput = Type.Object(
  {
    title: Type.Optional(LanguageString),
    dataTypes: Type.Array(DataType, { maxItems: 100 }),
    partyTypesAllowed: Type.Optional(PartyTypesAllowed),
    processTasks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100, description: "The ids of the tasks of the app's process; storage accepts no other" }),
    ),
    validFrom: Type.Optional(Timestamp),
    validTo: Type.Optional(Timestamp),
    copyInstanceSettings: Type.Optional(CopyInstanceSettings),
    dataFields: Type.Optional(Type.Array(DataField, { maxItems: 50, description: "Form fields copied into the instance's dataValues on each save" })),
    presentationFields: Type.Optional(Type.Array(DataField, { maxItems: 50, description: "Form fields copied into the instance's presentationTexts on each save" })),
  },
  { additionalProperties: false },
);
export type ApplicationInput = Static<typeof ApplicationInput>;

export const Application = Type.Object(
  {
    id: AppId,
    org: Slug,
    title: LanguageString,
    dataTypes: Type.Array(DataType),
    partyTypesAllowed: PartyTypesAllowed,
    processTasks: Type.Optional(Type.Array(Type.String())),
    validFrom: Type.Optional(Timestamp),
    validTo: Type.Optional(Timestamp),
    copyInstanceSettings: Type.Optional(CopyInstanceSettings),
    dataFields: Type.Optional(Type.Array(DataField)),
    presentationFields: Type.Optional(Type.Array(DataField)),
    version: Type.Integer(),
    created: Timestamp,
    createdBy: Type.String(),
    lastChanged: Timestamp,
    lastChangedBy: Type.String(),
  },
  { title: 'Application' },
);
export type Application = Static<typeof Application>;

export const ApplicationList = Type.Object({ applications: Type.Array(Application) });
export type ApplicationList = Static<typeof ApplicationList>;
